using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Hosting.Outbox;
using PeftOnnx.Hosting.Pipeline;
using PeftOnnx.Runtime.Scoring;
using Spectre.Console;

namespace PeftOnnx.Cli.Commands.Score;

/// <summary>
/// One `peftonnx score` run on the one engine (<see cref="FolderScoringPipeline"/>), whatever the options: records go to
/// --output (JSONL or CSV, <see cref="ResultFile"/>: replaced whole by a fresh run, appended to by --resume) or to
/// stdout; progress (documents/s, ETA) and the summary go to stderr; with --summary, stdout gets the label distribution
/// instead of the records.
/// </summary>
internal static class ScoreRun
{
    public static async Task<int> RunAsync(
        CliContext context, ITextScorer scorer, IReadOnlyList<string> inputs, FileInfo? output, string format, bool resume,
        int batchSize, long maxBytes, bool labelSummary, CancellationToken cancellationToken)
    {
        var outboxFormat = format.ToLowerInvariant() switch
        {
            "jsonl" => OutboxFormat.Jsonl,
            "csv" => OutboxFormat.Csv,
            _ => throw new UsageException($"--format is '{format}'; use jsonl or csv."),
        };
        if (output is null && (resume || outboxFormat != OutboxFormat.Jsonl))
            throw new UsageException("--resume and --format csv need --output <file>: a resumed run reads what that file already holds.");
        if (output is not null && !Directory.Exists(output.DirectoryName ?? "."))
            throw new UsageException($"--output {output.FullName}: folder {output.DirectoryName} does not exist.");

        using var file = output is null ? null : ResultFile.Open(output.FullName, outboxFormat, scorer.Labels, resume, scorer.Tasks);
        var options = new FolderScoringOptions
        {
            Inputs = inputs,
            AlreadyWritten = file?.Written ?? [],
            Pipeline = FolderScoringOptions.DefaultPipeline with { BatchSize = batchSize, MaxDocumentBytes = maxBytes },
        };
        using var console = file is null ? new ConsoleResultWriter(labelSummary ? TextWriter.Null : context.Out) : null;
        IResultWriter sink = file?.Writer ?? console!;

        FolderScoringSummary? summary = null;
        await context.Progress.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask("scoring", maxValue: 1);
                summary = await FolderScoringPipeline.RunAsync(scorer, options, sink, s =>
                {
                    task.MaxValue = Math.Max(1, s.TotalFiles);
                    task.Value = s.FilesDone;
                    task.Description = $"{s.Scored} scored, {s.AlreadyDone} done before, {s.Skipped} skipped, {s.DocumentsPerSecond:F1} docs/s";
                }, context.Logger("score"), cancellationToken);
                task.Value = task.MaxValue;
            });
        // Interrupted runs keep what they wrote (whole records), for --resume to finish.
        file?.Commit();

        var table = ScoreSummary.ToTable(summary!);
        table.AddRow("results", Markup.Escape(file?.Output ?? "stdout"));
        context.Progress.Write(table);
        if (labelSummary)
            await context.Out.WriteAsync(ScoreSummary.Distribution(summary!));
        if (summary!.Interrupted)
        {
            await context.Error.WriteLineAsync("interrupted: run the same command with --resume to finish");
            return CliAction.Cancelled;
        }
        return 0;
    }
}
