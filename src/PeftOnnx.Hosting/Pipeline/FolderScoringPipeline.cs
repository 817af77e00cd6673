using Microsoft.Extensions.Logging;
using PeftOnnx.Hosting.Ledger;
using PeftOnnx.Hosting.Outbox;
using PeftOnnx.Hosting.Worker;
using PeftOnnx.Runtime.Documents;
using PeftOnnx.Runtime.Scoring;

namespace PeftOnnx.Hosting.Pipeline;

/// <summary>
/// Scoring of files and folders (`peftonnx score`, `demo`, `bench-pipeline`) on the one engine: the walk streams files
/// into the <see cref="ScoringPipeline"/> with claims held for this run (<see cref="RunClaims"/>, seeded with what the
/// sink already holds when resuming) and every record goes to one sink (a results file, stdout, a table).
/// </summary>
public static class FolderScoringPipeline
{
    public static async Task<FolderScoringSummary> RunAsync(
        ITextScorer scorer, FolderScoringOptions options, IResultWriter sink, Action<FolderScoringSummary>? progress, ILogger logger,
        CancellationToken cancellationToken)
    {
        var summary = new FolderScoringSummary();
        // Counting first costs one directory listing per folder and gives the progress bar its total.
        summary.TotalFiles = Roots(options.Inputs).Sum(root => DocumentWalker.Walk([root.Input]).Count());

        var pipeline = new ScoringPipeline(scorer, new RunClaims(options.AlreadyWritten), sink, options.Pipeline,
            _ =>
            {
                summary.FileDone();
                progress?.Invoke(summary);
            },
            logger, source: "score", onDocument: summary.Add);

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
