using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PeftOnnx.Hosting.Inbox;
using PeftOnnx.Hosting.Ledger;
using PeftOnnx.Hosting.Metrics;
using PeftOnnx.Hosting.Outbox;
using PeftOnnx.Hosting.Pipeline;
using PeftOnnx.Runtime.Scoring;

namespace PeftOnnx.Hosting.Worker;

/// <summary>
/// The hosted inbox worker: watches the inbox folders, scores new and changed documents through the
/// <see cref="ScoringPipeline"/>, and once a result is committed moves the input to processed/ (or leaves it, marked in
/// the ledger); rejected and failed documents go to failed/ with a reason file, and so do symbolic links that lead out
/// of the inbox (unless Worker:FollowSymlinks). Inputs keep their names in processed/ and failed/ unless an earlier
/// input took it (<see cref="FreeName"/>). Stopping the host lets the batches already claimed finish writing;
/// everything else is picked up again at the next start.
/// </summary>
public sealed class InboxWorker(
    IOptions<WorkerOptions> options, ITextScorer scorer, SqliteLedger ledger, IResultWriter writer, HostingMetrics metrics,
    Readiness readiness, ILogger<InboxWorker> logger) : BackgroundService
{
    private readonly WorkerOptions _options = options.Value;
    private readonly FailedArea _failed = new(options.Value.FailedPath);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        readiness.Expect(nameof(InboxWorker), "recovering the ledger and scanning the inbox");
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pipeline = new ScoringPipeline(scorer, ledger, writer, _options.ToPipelineOptions(), Settle, logger, metrics, "inbox", onDocument: LogDocument, readiness: readiness);
        try
        {
            pipeline.Recover(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }
        var roots = _options.Inbox.Select(Path.GetFullPath).ToArray();
        logger.LogInformation("Watching {Inboxes} with {Model}; results to {Results}, ledger {Ledger}",
            string.Join(", ", roots), scorer.ModelId, _options.ResultsPath, ledger.DatabasePath);

        var running = pipeline.RunAsync(stoppingToken);
        var watchers = roots.Select(root =>
        {
            var prefix = roots.Length > 1 ? Path.GetFileName(root) + "/" : "";
            var watcher = new InboxWatcher(root, TimeSpan.FromMilliseconds(_options.SettleMs), TimeSpan.FromSeconds(_options.RescanSeconds), logger);
            return watcher.RunAsync(
                async (path, ct) =>
                {
                    var item = new WorkItem(path, prefix + DocumentIds.For(root, path));
                    if (!_options.FollowSymlinks && LinkLeavingInbox(root, item) is { } refusal)
                        SetAside(item, refusal, 1);
                    else
                        await pipeline.SubmitAsync(item, ct);
                },
                stoppingToken);
        }).ToList();
        readiness.MarkReady(nameof(InboxWorker));
        try
        {
            await Task.WhenAll(watchers);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        pipeline.Complete();
        await running;
        logger.LogInformation("Inbox worker stopped; {InFlight} documents left for the next start", pipeline.InFlight);
    }

    /// <summary>
    /// One information line per scored document, and per document not scored because the same content was scored
    /// before under another name (naming that document and its result); rescans of unchanged files stay at debug.
    /// </summary>
    private void LogDocument(WorkOutcome outcome)
    {
        switch (outcome.Status)
        {
            case WorkStatus.Scored:
                logger.LogInformation("Scored {DocId}: {Label} ({Score:F3})", outcome.DocId, outcome.Result?.Label, outcome.Result?.Score);
                break;
            case WorkStatus.AlreadyDone when outcome.Existing is { } earlier && earlier.DocId != outcome.DocId:
                logger.LogInformation("Not scored again {DocId}: same content as {EarlierDocId}, already scored (result in {ResultPath})",
                    outcome.DocId, earlier.DocId, earlier.ResultPath);
                break;
            case WorkStatus.AlreadyDone:
                logger.LogDebug("Not scored again {DocId}: {Reason}", outcome.DocId, outcome.Reason);
                break;
        }
    }

    /// <summary>Settles an input file once the ledger has recorded all its documents.</summary>
    private void Settle(ItemOutcome outcome)
    {
        var item = outcome.Item;
        if (outcome.Duplicate > 0)
        {
            // A twin with the same content is being scored; the next rescan finds this one done by its hash.
            logger.LogDebug("{DocId} waits for its twin with the same content", item.DocId);
            return;
        }
        if (outcome.IsUnscorable)
        {
            SetAside(item, outcome.FirstProblem ?? "not scorable", outcome.Rejected + outcome.Failed);
            return;
        }
        if (!outcome.IsComplete)
        {
            logger.LogWarning("{DocId}: {Bad} of {Count} documents not scored ({Reason}); the ledger lists them",
                item.DocId, outcome.Rejected + outcome.Failed, outcome.Documents, outcome.FirstProblem);
        }
        if (_options.Processed == InputDisposition.Move)
            MoveToProcessed(item);
    }

    /// <summary>The reason to refuse a symbolic link whose target is outside the inbox, or null.</summary>
    private static string? LinkLeavingInbox(string root, WorkItem item)
    {
        try
        {
            return InboxLinks.TargetOutside(root, item.Path) is { } target
                ? $"a symbolic link to {target}, outside the inbox; links that leave the inbox are refused (pass --follow-symlinks, Worker:FollowSymlinks, to score them)"
                : null;
        }
        catch (IOException e)
        {
            return $"a symbolic link that cannot be resolved: {e.Message}";
        }
    }

    private void SetAside(WorkItem item, string reason, int attempts)
    {
        logger.LogWarning("Not scored {DocId}: {Reason}", item.DocId, reason);
        try
        {
            _failed.Park(item.Path, item.DocId, reason, attempts);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A full disk: the input stays in the inbox and the next rescan sets it aside again.
            logger.LogWarning("Could not move {DocId} to {Failed}: {Error}", item.DocId, _failed.Directory, e.Message);
        }
    }

    private void MoveToProcessed(WorkItem item)
    {
        var target = FreeName.For(DocumentIds.PathUnder(_options.ProcessedPath, item.DocId));
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (FreeName.Exists(item.Path))
                FreeName.Move(item.Path, target);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The result is committed; a file we cannot move is found again by the rescan and skipped by its hash.
            logger.LogWarning("Scored {DocId} but could not move it to {Target}: {Error}", item.DocId, target, e.Message);
        }
    }
}
