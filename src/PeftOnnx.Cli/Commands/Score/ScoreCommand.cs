using System.CommandLine;
using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Runtime.Documents;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Scoring;
using Spectre.Console;

namespace PeftOnnx.Cli.Commands.Score;

/// <summary>
/// `peftonnx score`: classifies (or embeds) every document in files and folders, one JSON line per document;
/// files that cannot be read as text are reported as skipped and the run goes on.
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
        var resume = new Option<bool>("--resume") { Description = "Keep a ledger next to --output and continue an interrupted run: documents already scored are not scored or written again." };
        var format = new Option<string?>("--format") { Description = "jsonl or csv: write --output through the resumable engine (with --resume)." };
        var adapters = new AdapterScoringOptions();
        var command = new Command("score", "Score documents: one JSON line per document (path, label, score, probabilities, chunks), then a summary on stderr.")
        {
            paths, model, output, labels, device, threads, batchSize, maxLength, aggregate, maxBytes, modelsDir, resume, format,
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
            using var loaded = adapters.Requested(result)
                ? adapters.Load(result, directory, result.GetValue(paths)!, CliOptions.SessionSettings(result, device, threads), scorerOptions, context.Logger("score"))
                : LoadMerged(directory, CliOptions.SessionSettings(result, device, threads), scorerOptions, zeroShot, context);
            var scorer = loaded.Scorer;
            if (result.GetValue(resume) || result.GetValue(format) is not null)
            {
                return await LedgerScoring.RunAsync(context, scorer, result.GetValue(paths)!, result.GetValue(output), result.GetValue(format) ?? "jsonl",
                    result.GetValue(resume), result.GetValue(batchSize), result.GetValue(maxBytes), cancellationToken);
            }
            var reader = new DocumentReader(new DocumentReaderOptions { MaxBytes = result.GetValue(maxBytes) });
            var summary = new ScoreSummary();
            using var writer = new ResultWriter(context, result.GetValue(output));
            await context.Progress.Status().StartAsync("scoring", async status =>
                await DocumentScoring.RunAsync(result.GetValue(paths)!, reader, scorer, line =>
                {
                    writer.Writer.WriteLine(CliJson.Line(line));
                    if (line.Status == "ok")
                        summary.AddScored(line.Label, line.Chunks ?? 0, line.Tokens ?? 0);
                    else
                        summary.AddSkipped(line.Reason ?? "");
                    status.Status($"scored {summary.Scored}, skipped {summary.Skipped}");
                }, includeEmbeddings: false, cancellationToken));
            writer.Commit();
            context.Progress.Write(summary.ToTable());
            return 0;
        });
        return command;
    }

    private static ScoringModel LoadMerged(string directory, Runtime.Sessions.SessionSettings settings, ScorerOptions options, IReadOnlyList<string>? zeroShot, CliContext context)
    {
        var onnx = OnnxModel.Load(directory, settings, context.Logger("score"));
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
