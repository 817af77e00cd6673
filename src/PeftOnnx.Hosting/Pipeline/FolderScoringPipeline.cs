using Microsoft.Extensions.Logging;
using PeftOnnx.Hosting.Ledger;
using PeftOnnx.Hosting.Outbox;
using PeftOnnx.Hosting.Worker;
using PeftOnnx.Runtime.Documents;
using PeftOnnx.Runtime.Scoring;

namespace PeftOnnx.Hosting.Pipeline;

/// <summary>
/// Batch scoring of folders (`peftonnx score --resume`) on the worker's engine: the walk streams files into the
/// <see cref="ScoringPipeline"/>, results go to one JSONL or CSV file, and the SQLite ledger next to it records every
/// document, so an interrupted run resumes where it stopped and never writes a document twice.
/// </summary>
public static class FolderScoringPipeline
{
    public static async Task<FolderScoringSummary> RunAsync(
        ITextScorer scorer, FolderScoringOptions options, Action<FolderScoringSummary>? progress, ILogger logger, CancellationToken cancellationToken)
    {
        if (options.Format == OutboxFormat.JsonFiles)
            throw new ArgumentException("folder scoring writes one JSONL or CSV file; JsonFiles is the worker's layout.", nameof(options));
        if (!options.Resume)
        {
            foreach (var suffix in new[] { "", "-wal", "-shm" })
                File.Delete(options.LedgerPath + suffix);
        }

        var summary = new FolderScoringSummary();
        // Counting first costs one directory listing per folder and gives the progress bar its total.
        summary.TotalFiles = Roots(options.Inputs).Sum(root => DocumentWalker.Walk([root.Input]).Count());

        using var ledger = SqliteLedger.Open(options.LedgerPath);
        using IResultWriter writer = options.Format == OutboxFormat.Csv
            ? new CsvResultWriter(options.Output, scorer.Labels, truncate: !options.Resume)
            : new JsonlResultWriter(options.Output, truncate: !options.Resume);
        var pipeline = new ScoringPipeline(scorer, ledger, writer, options.Pipeline,
            _ =>
            {
                summary.FileDone();
                progress?.Invoke(summary);
            },
            logger, source: "score", onDocument: summary.Add);
        if (options.Resume)
            pipeline.Recover(cancellationToken);

        var running = pipeline.RunAsync(cancellationToken);
        try
        {
            foreach (var (input, root) in Roots(options.Inputs))
            {
                foreach (var path in DocumentWalker.Walk([input]))
                    await pipeline.SubmitAsync(new WorkItem(path, DocumentIds.For(root, path)), cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            pipeline.Complete();
        }
        await running;
        summary.Interrupted = cancellationToken.IsCancellationRequested;
        return summary;
    }

    /// <summary>Each input with the folder its document ids are relative to (a file's own folder for a file).</summary>
    private static IEnumerable<(string Input, string Root)> Roots(IReadOnlyList<string> inputs) =>
        inputs.Select(input => Path.GetFullPath(input))
            .Select(full => (full, Directory.Exists(full) ? full : Path.GetDirectoryName(full)!));
}
