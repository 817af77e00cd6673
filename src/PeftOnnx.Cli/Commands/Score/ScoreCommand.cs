using System.CommandLine;
using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Hosting.Scoring;
using PeftOnnx.Runtime.Documents;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Scoring;
using Spectre.Console;

namespace PeftOnnx.Cli.Commands.Score;

/// <summary>
/// `peftonnx score`: classifies (or embeds) every document in files and folders, one record per document (status
/// scored, skipped or failed, with the reason); files that cannot be read as text are recorded as skipped and the run
/// goes on. Every mode runs the one engine (<see cref="ScoreRun"/>).
/// </summary>
internal static class ScoreCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths") { Description = "Files and folders (walked recursively) of .txt, .md, .html, .json, .jsonl, .csv documents.", Arity = ArgumentArity.OneOrMore };
        var model = CliOptions.Model();
        var output = CliOptions.Output();
        var labels = CliOptions.Labels();
        var device = CliOptions.Device();
        var threads = CliOptions.Threads();
        var batchSize = CliOptions.BatchSize();
        var maxLength = CliOptions.MaxLength();
        var aggregate = CliOptions.Aggregate();
        var maxBytes = new Option<long>("--max-bytes") { Description = "Skip files larger than this many bytes.", DefaultValueFactory = _ => new DocumentReaderOptions().MaxBytes };
        var modelsDir = CliOptions.ModelsDir();
        var resume = new Option<bool>("--resume") { Description = "Continue an earlier run with the same --output: documents already in it are neither scored nor written again (without it, --output is replaced when the run ends)." };
        var format = new Option<string?>("--format") { Description = "jsonl (default) or csv: the layout of --output, the same columns either way." };
        var skipVerify = CliOptions.SkipVerify();
        var summary = new Option<bool>("--summary") { Description = "Print the label distribution of the scored documents (label, documents, share) on stdout; per-document records then go only to --output." };
        var adapters = new AdapterScoringOptions();
        var command = new Command("score", "Score documents: one record per document (doc_id, path, status, reason, label, score, probabilities, chunks), then a summary on stderr.")
        {
            paths, model, output, labels, device, threads, batchSize, maxLength, aggregate, maxBytes, modelsDir, resume, format, skipVerify, summary,
        };
        adapters.AddTo(command);
        CliAction.Set(command, async (result, context, cancellationToken) =>
        {
            CliOptions.RequireBatchSize(result.GetValue(batchSize));
            if (result.GetValue(maxBytes) < 1)
                throw new UsageException($"--max-bytes must be at least 1, got {result.GetValue(maxBytes)}.");
            var zeroShot = CliOptions.ParseLabels(result.GetValue(labels));
            var directory = ModelLocator.Resolve(result.GetValue(model)!, result.GetValue(modelsDir));
            var scorerOptions = new ScorerOptions
            {
                BatchSize = result.GetValue(batchSize),
                MaxLength = result.GetValue(maxLength),
                Aggregation = result.GetValue(aggregate),
                ZeroShotLabels = zeroShot,
            };
            // A side bundle always scores with an adapter: its bare graph holds default inputs, not a trained adapter.
            using var loaded = adapters.Requested(result) || ScorerFactory.IsSideBundle(directory)
                ? adapters.Load(result, directory, result.GetValue(paths)!, CliOptions.SessionSettings(result, device, threads), scorerOptions, context.Logger("score"), !result.GetValue(skipVerify))
                : LoadMerged(directory, CliOptions.SessionSettings(result, device, threads), scorerOptions, zeroShot, context, !result.GetValue(skipVerify));
            return await ScoreRun.RunAsync(context, loaded.Scorer, result.GetValue(paths)!, result.GetValue(output), result.GetValue(format) ?? "jsonl",
                result.GetValue(resume), result.GetValue(batchSize), result.GetValue(maxBytes), result.GetValue(summary), cancellationToken);
        });
        return command;
    }

    private static ScoringModel LoadMerged(string directory, Runtime.Sessions.SessionSettings settings, ScorerOptions options, IReadOnlyList<string>? zeroShot, CliContext context, bool verify)
    {
        var onnx = OnnxModel.Load(directory, settings, context.Logger("score"), verify);
        try
        {
            if (onnx.IsClassifier && zeroShot is not null)
                throw new UsageException($"--labels is for zero-shot with a base model; {onnx.Manifest.Name} is a classifier with its own labels ({string.Join(", ", onnx.Manifest.Labels!)}).");
            return new ScoringModel(new OnnxTextScorer(onnx, options), onnx);
        }
        catch
        {
            onnx.Dispose();
            throw;
        }
    }
}
