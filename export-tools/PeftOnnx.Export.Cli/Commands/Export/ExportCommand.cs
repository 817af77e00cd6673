using System.CommandLine;
using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Core.Adapters;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Onnx.Side;
using PeftOnnx.Runtime.Sessions;
using Spectre.Console;

namespace PeftOnnx.Export.Cli.Commands.Export;

/// <summary>
/// `peftonnx-export export`: merge a PEFT adapter into a base model and write a bundle (model.onnx, vocab,
/// bundle.json), or write a side-graph bundle (<see cref="SideExportOptions"/>). Progress goes to stderr; the bundle
/// path and a summary to stdout.
/// </summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var baseModel = new Option<string>("--base", "-b") { Description = "Base model folder (model.onnx, vocab.txt, model.json), e.g. models/minilm-l6.", Required = true };
        var adapter = new Option<string>("--adapter", "-a") { Description = "PEFT adapter folder (adapter_config.json + adapter_model.safetensors).", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "Output folder: the bundle to create.", Required = true }.WithLegacyAlias("--out");
        var labels = new Option<string?>("--labels") { Description = "Class labels in logit order, comma-separated (default: label_0..label_N-1)." };
        var labelsFile = new Option<FileInfo?>("--labels-file") { Description = "Class labels, one per line, in logit order." };
        var precision = new Option<string>("--precision") { Description = "Weights precision: fp32 or fp16.", DefaultValueFactory = _ => "fp32" };
        precision.AcceptOnlyFromAmong("fp32", "fp16");
        var quantize = new Option<string>("--quantize") { Description = "Weight quantization: none or int8 (dynamic, MatMul weights).", DefaultValueFactory = _ => "none" };
        quantize.AcceptOnlyFromAmong("none", "int8");
        var name = new Option<string?>("--name") { Description = "Bundle name in bundle.json (default: the --output folder name)." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing --output folder." }.WithLegacyAlias("--force");
        var fullLastLayer = new Option<bool>("--full-last-layer") { Description = "Keep every token's row in the last layer. By default a pooler-headed classifier's last layer computes only the [CLS] row the pooler reads (same outputs, ~1/6 less work for 6 layers)." };
        var edge = new Option<bool>("--edge") { Description = "Only what the edge runtime reads: model, vocab and bundle.json with the files' sha256, without the adapter config's copy; the model saved as ONNX Runtime optimizes it, so it starts faster (merged and parallel bundles; use with --quantize int8)." };
        var allowBaseMismatch = new Option<bool>(Core.Adapters.AdapterBaseCheck.OverrideFlag) { Description = "Export an adapter that records another base model (training.json sha256 or base_model_name_or_path); the mismatch becomes a warning." };
        var side = SideExportOptions.Create();

        var command = new Command("export", Description())
        {
            baseModel, adapter, output, labels, labelsFile, precision, quantize, name, overwrite, fullLastLayer, allowBaseMismatch, edge,
        };
        side.AddTo(command);
        command.Validators.Add(result =>
        {
            if (result.GetResult(labels) is not null && result.GetResult(labelsFile) is not null)
                result.AddError("--labels and --labels-file exclude each other; give the labels once.");
        });
        command.SetAction(parseResult =>
        {
            var stderr = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            if (Console.IsErrorRedirected)
                stderr.Profile.Width = 1000; // one error per line in logs, not wrapped at 80 columns
            try
            {
                BundleExportOptions Options() => new()
                {
                    BaseDirectory = parseResult.GetValue(baseModel)!,
                    AdapterDirectory = parseResult.GetValue(adapter)!,
                    OutputDirectory = parseResult.GetValue(output)!,
                    Labels = ReadLabels(parseResult.GetValue(labels), parseResult.GetValue(labelsFile), parseResult.GetValue(adapter)!, stderr),
                    Precision = parseResult.GetValue(precision)!,
                    Quantize = parseResult.GetValue(quantize)!,
                    Name = parseResult.GetValue(name),
                    Force = parseResult.GetValue(overwrite),
                    ClsOnlyLastLayer = !parseResult.GetValue(fullLastLayer),
                    AllowBaseMismatch = parseResult.GetValue(allowBaseMismatch),
                    Edge = parseResult.GetValue(edge),
                    OptimizeForEdge = OfflineOptimization.SaveOrtFormat,
                };
                if (side.ParallelRequested(parseResult))
                    return side.RunParallel(parseResult, Options(), stderr);
                var sideRequested = side.Requested(parseResult, parseResult.GetValue(adapter)!, parseResult.InvocationConfiguration.Output);
                if (sideRequested && parseResult.GetValue(edge))
                    throw new ArgumentException("--edge writes a merged bundle: a side-graph bundle loads its adapters at run time from a folder that is not sealed; drop --edge or --mode.");
                if (sideRequested)
                    return side.Run(parseResult, parseResult.GetValue(baseModel)!, parseResult.GetValue(adapter)!, parseResult.GetValue(output)!,
                        ReadLabels(parseResult.GetValue(labels), parseResult.GetValue(labelsFile), parseResult.GetValue(adapter)!, stderr), parseResult.GetValue(name), parseResult.GetValue(overwrite), !parseResult.GetValue(fullLastLayer), parseResult.GetValue(allowBaseMismatch), stderr);
                var options = Options();
                var result = new BundleExporter(new SynchronousProgress(line => stderr.MarkupLineInterpolated($"[grey]{line}[/]"))).Export(options);
                WriteWarnings(result.Warnings, stderr);
                var m = result.Manifest;
                parseResult.InvocationConfiguration.Output.WriteLine(
                    $"{result.Directory}: {m.Task}, {result.MergedModules.Count} modules merged ({m.Provenance.PeftType}), {m.Precision}" +
                    (m.Labels is null ? "" : $", {m.Labels.Count} labels"));
                return 0;
            }
            catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or NotSupportedException or KeyNotFoundException)
            {
                stderr.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                return 1;
            }
        });
        return command;
    }

    /// <summary>The verb's help text, listing the methods each form exports (from the method registries).</summary>
    private static string Description() =>
        "Export a PEFT adapter (or a probe/full fine-tuned model folder) with a base model into an ONNX bundle: merged into the weights " +
        $"({AdapterMethods.Describe(m => m.Mergeable)}) or as side graphs ({string.Join(", ", SideGraphMethods.PeftTypes)}; --mode side|mixed), " +
        "or several task adapters into one bundle that scores every task in one run (--mode parallel).";

    internal static void WriteWarnings(IEnumerable<string> warnings, IAnsiConsole stderr)
    {
        foreach (var warning in warnings)
            stderr.MarkupLineInterpolated($"[yellow]warning:[/] {warning}");
    }

    /// <summary>
    /// "a,b,c" or a file with one label per line (blank lines skipped, duplicates refused); without either, the labels
    /// `peftonnx-export train` recorded in the adapter's training.json, so a trained adapter exports with its names.
    /// </summary>
    internal static IReadOnlyList<string>? ReadLabels(string? inline, FileInfo? file, string adapterDirectory, IAnsiConsole stderr)
    {
        var labels = ReadLabels(inline, file);
        if (labels is not null || TrainedLabels(adapterDirectory) is not { } trained)
            return labels;
        stderr.MarkupLineInterpolated($"[grey]labels from {Path.Combine(adapterDirectory, "training.json")}: {string.Join(",", trained)}[/]");
        return ReadLabels(string.Join(',', trained), null);
    }

    private static string[]? TrainedLabels(string adapterDirectory)
    {
        var path = Path.Combine(adapterDirectory, "training.json");
        if (!File.Exists(path))
            return null;
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(path));
            return doc.RootElement.TryGetProperty("labels", out var array) && array.ValueKind == System.Text.Json.JsonValueKind.Array
                ? [.. array.EnumerateArray().Select(e => e.GetString() ?? throw new InvalidDataException($"{path}: a label is not a string."))]
                : null;
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid JSON ({e.Message}); pass --labels instead.", e);
        }
    }

    /// <summary>"a,b,c" or a file with one label per line; blank lines are skipped, duplicates refused.</summary>
    internal static IReadOnlyList<string>? ReadLabels(string? inline, FileInfo? file)
    {
        List<string>? labels = null;
        if (inline is not null)
            labels = [.. inline.Split(',').Select(l => l.Trim())];
        else if (file is not null)
        {
            if (!file.Exists)
                throw new FileNotFoundException($"--labels-file {file.FullName} does not exist.", file.FullName);
            labels = [.. File.ReadAllLines(file.FullName).Select(l => l.Trim()).Where(l => l.Length > 0)];
        }
        if (labels is null)
            return null;
        if (labels.Count == 0 || labels.Any(l => l.Length == 0))
            throw new ArgumentException($"labels must be non-empty names, got \"{string.Join(",", labels)}\".");
        var duplicate = labels.GroupBy(l => l, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"label \"{duplicate.Key}\" appears {duplicate.Count()} times; labels must be distinct.");
        return labels;
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
    private sealed class SynchronousProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
