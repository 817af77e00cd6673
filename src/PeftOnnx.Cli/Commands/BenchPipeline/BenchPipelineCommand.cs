using System.CommandLine;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using PeftOnnx.Benchmarking;
using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Hosting.Outbox;
using PeftOnnx.Hosting.Pipeline;
using PeftOnnx.Hosting.Scoring;
using PeftOnnx.Runtime.Documents;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Scoring;
using Spectre.Console;

namespace PeftOnnx.Cli.Commands.BenchPipeline;

/// <summary>
/// `peftonnx bench-pipeline`: folder scoring end to end (walk, read, hash, ledger, score, fsync'd JSONL, commit) against
/// the model alone on texts already in memory, at the same batch size; plus the process's peak working set and its
/// working set sampled during the run, to show memory stays flat on large folders.
/// </summary>
internal static class BenchPipelineCommand
{
    public static Command Create()
    {
        var folder = new Argument<string>("folder") { Description = "Folder of documents (created with --generate when empty)." };
        var model = CliOptions.Model(required: false);
        var labels = CliOptions.Labels();
        var device = CliOptions.Device();
        var threads = CliOptions.Threads();
        var batchSize = CliOptions.BatchSize();
        var modelsDir = CliOptions.ModelsDir();
        var generate = new Option<int>("--generate") { Description = "Write this many documents (debian-sections descriptions, made unique) into the folder first." };
        var modelOnlyDocs = new Option<int>("--model-only-docs") { Description = "Documents held in memory for the model-only runs.", DefaultValueFactory = _ => 2000 };
        var hashScorer = new Option<bool>("--hash-scorer") { Description = "Use the deterministic hash scorer (no model): measures the engine's own overhead and memory." };
        var command = new Command("bench-pipeline", "Benchmark folder scoring end to end against the model alone at the same batch size; report peak memory.")
        {
            folder, model, labels, device, threads, batchSize, modelsDir, generate, modelOnlyDocs, hashScorer,
        };
        CliAction.Set(command, async (result, context, cancellationToken) =>
        {
            var root = Path.GetFullPath(result.GetValue(folder)!);
            var batch = result.GetValue(batchSize);
            CliOptions.RequireBatchSize(batch);
            if (result.GetValue(generate) > 0)
                Generate(root, result.GetValue(generate), context);

            OnnxModel? onnx = null;
            ITextScorer scorer;
            if (result.GetValue(hashScorer))
            {
                scorer = new HashTextScorer(HashTextScorer.DefaultLabels, TimeSpan.Zero);
            }
            else
            {
                var directory = ModelLocator.Resolve(result.GetValue(model) ?? throw new UsageException("pass --model <bundle> or --hash-scorer."), result.GetValue(modelsDir));
                onnx = OnnxModel.Load(directory, CliOptions.SessionSettings(result, device, threads), context.Logger("bench"));
                scorer = new OnnxTextScorer(onnx, new ScorerOptions { BatchSize = batch, ZeroShotLabels = CliOptions.ParseLabels(result.GetValue(labels)) });
            }
            try
            {
                var reader = new DocumentReader();
                var texts = DocumentWalker.Walk([root]).SelectMany(reader.Read).Where(d => !d.IsSkipped)
                    .Take(result.GetValue(modelOnlyDocs)).Select(d => d.Text!).ToArray();
                if (texts.Length == 0)
                    throw new UsageException($"{root} holds no readable documents; add --generate 2000.");
                scorer.Score(texts.Take(batch).ToArray(), cancellationToken);

                var before = ModelOnly(scorer, texts, batch, cancellationToken);
                context.Progress.MarkupLine($"[grey]model only: {before:F1} docs/s[/]");
                var (endToEnd, summary, samples) = await EndToEndAsync(scorer, root, batch, cancellationToken);
                context.Progress.MarkupLine($"[grey]end to end: {endToEnd:F1} docs/s[/]");
                var after = ModelOnly(scorer, texts, batch, cancellationToken);
                var modelOnly = (before + after) / 2;

                var table = new Table().AddColumns("measure", "value");
                table.AddRow("scorer", Markup.Escape($"{scorer.ModelId}{(onnx is null ? "" : $" on {onnx.Device}, {onnx.IntraOpThreads} threads")}, batch {batch}"));
                table.AddRow("model only (texts in memory)", $"{before:F1} docs/s before, {after:F1} docs/s after ({texts.Length} docs)");
                table.AddRow("folder end to end", $"{endToEnd:F1} docs/s ({summary.Scored} scored, {summary.Skipped} skipped, {summary.TotalFiles} files, {summary.Elapsed.TotalSeconds:F1} s)");
                table.AddRow("end to end / model only", $"{endToEnd / modelOnly:F3}");
                table.AddRow("working set during the run (MB)", string.Join(" ", samples.Select(s => $"{s.Percent}%:{s.WorkingSetMb}")));
                table.AddRow("peak working set (MB)", $"{Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024)}");
                context.Results.Write(table);
                return 0;
            }
            finally
            {
                onnx?.Dispose();
            }
        });
        return command;
    }

    private static double ModelOnly(ITextScorer scorer, string[] texts, int batch, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < texts.Length; i += batch)
            scorer.Score(texts.AsSpan(i, Math.Min(batch, texts.Length - i)).ToArray(), cancellationToken);
        return texts.Length / clock.Elapsed.TotalSeconds;
    }

    private static async Task<(double DocsPerSecond, FolderScoringSummary Summary, List<(int Percent, long WorkingSetMb)> Samples)> EndToEndAsync(
        ITextScorer scorer, string root, int batch, CancellationToken cancellationToken)
    {
        var output = Path.Combine(Path.GetTempPath(), $"peftonnx-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(output);
        var samples = new List<(int, long)>();
        var nextSample = 0;
        try
        {
            // What `peftonnx score DIR -o results.jsonl` runs: the same options, sink and claims.
            var options = new FolderScoringOptions { Inputs = [root], Pipeline = FolderScoringOptions.DefaultPipeline with { BatchSize = batch } };
            using var file = ResultFile.Open(Path.Combine(output, "results.jsonl"), OutboxFormat.Jsonl, scorer.Labels, resume: false);
            var summary = await FolderScoringPipeline.RunAsync(scorer, options, file.Writer, s =>
            {
                var percent = s.FilesDone * 100 / Math.Max(1, s.TotalFiles);
                if (percent >= nextSample)
                {
                    lock (samples)
                    {
                        if (percent >= nextSample)
                        {
                            samples.Add((percent, Environment.WorkingSet / (1024 * 1024)));
                            nextSample = percent / 10 * 10 + 10;
                        }
                    }
                }
            }, NullLogger.Instance, cancellationToken);
            file.Commit();
            return (summary.Scored / summary.Elapsed.TotalSeconds, summary, samples);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    private static void Generate(string root, int count, CliContext context)
    {
        var texts = BenchTexts.Load(null);
        for (var i = 0; i < count; i++)
        {
            var path = Path.Combine(root, $"{i / 1000:D4}", $"doc{i:D6}.txt");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, $"{texts[i % texts.Count]}\n(copy {i})\n");
        }
        context.Progress.MarkupLine($"[grey]wrote {count} documents under {Markup.Escape(root)}[/]");
    }
}
