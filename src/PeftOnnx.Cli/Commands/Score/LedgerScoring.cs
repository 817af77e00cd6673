using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Hosting.Outbox;
using PeftOnnx.Hosting.Pipeline;
using PeftOnnx.Runtime.Scoring;
using Spectre.Console;

namespace PeftOnnx.Cli.Commands.Score;

/// <summary>
/// `peftonnx score --resume` / `--format csv`: scoring on the worker's engine (<see cref="FolderScoringPipeline"/>):
/// results appended to --output as they are durably written, a SQLite ledger next to it (&lt;output&gt;.ledger.db), so an
/// interrupted run continues with --resume and never writes a document twice. Progress: documents/s and ETA.
/// </summary>
internal static class LedgerScoring
{
    public static async Task<int> RunAsync(
        CliContext context, ITextScorer scorer, IReadOnlyList<string> inputs, FileInfo? output, string format, bool resume,
        int batchSize, long maxBytes, CancellationToken cancellationToken)
    {
        if (output is null)
            throw new UsageException("--resume and --format need --output <file>: the ledger that makes the run resumable sits next to it.");
        var outboxFormat = format.ToLowerInvariant() switch
        {
            "jsonl" => OutboxFormat.Jsonl,
            "csv" => OutboxFormat.Csv,
            _ => throw new UsageException($"--format is '{format}'; use jsonl or csv."),
        };
        var options = new FolderScoringOptions
        {
            Inputs = inputs,
            Output = output.FullName,
            Format = outboxFormat,
            Resume = resume,
            Pipeline = new PipelineOptions { BatchSize = batchSize, BatchWait = TimeSpan.Zero, MaxDocumentBytes = maxBytes, SkipUnchangedFiles = false },
        };

        FolderScoringSummary? summary = null;
        await context.Progress.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask("scoring", maxValue: 1);
                summary = await FolderScoringPipeline.RunAsync(scorer, options, s =>
                {
                    task.MaxValue = Math.Max(1, s.TotalFiles);
                    task.Value = s.FilesDone;
                    task.Description = $"{s.Scored} scored, {s.AlreadyDone} done before, {s.Skipped} skipped, {s.DocumentsPerSecond:F1} docs/s";
                }, context.Logger("score"), cancellationToken);
                task.Value = task.MaxValue;
            });

        var s = summary!;
        var table = new Table().AddColumns("summary", "value");
        table.AddRow("files", $"{s.FilesDone} of {s.TotalFiles}");
        table.AddRow("scored", $"{s.Scored} ({s.DocumentsPerSecond:F1} docs/s, {s.Elapsed.TotalSeconds:F1} s)");
        table.AddRow("already scored (resumed)", s.AlreadyDone.ToString());
        table.AddRow("skipped", s.Skipped == 0 ? "0" : Markup.Escape($"{s.Skipped} ({string.Join(", ", s.SkippedPerReason.Select(r => $"{r.Key} {r.Value}"))})"));
        if (s.ScoredPerLabel.Count > 0)
            table.AddRow("labels", Markup.Escape(string.Join(", ", s.ScoredPerLabel.Select(l => $"{l.Key} {l.Value}"))));
        table.AddRow("results / ledger", Markup.Escape($"{options.Output} / {options.LedgerPath}"));
        context.Progress.Write(table);
        if (s.Interrupted)
        {
            await context.Error.WriteLineAsync("interrupted: run the same command with --resume to finish");
            return CliAction.Cancelled;
        }
        return 0;
    }
}
