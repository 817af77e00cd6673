using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PeftOnnx.Hosting.Ledger;
using PeftOnnx.Hosting.Metrics;
using PeftOnnx.Hosting.Outbox;
using PeftOnnx.Hosting.Pipeline;
using PeftOnnx.Hosting.Worker;
using PeftOnnx.Runtime.Scoring;

namespace PeftOnnx.Hosting.Queue;

/// <summary>
/// A queue consumer: takes jobs from the Redis consumer group, scores them through the <see cref="ScoringPipeline"/>
/// and acknowledges each job only after its result file is durably written. Jobs a dead worker left pending are claimed
/// after Queue:ClaimIdleSeconds. A job whose result already exists (a re-delivery after a crash between write and
/// acknowledge) is acknowledged without scoring. A job that cannot be scored (no id or path, an id that is not a plain
/// relative path, an unscorable document, more than Queue:MaxDeliveries deliveries) is dead-lettered with the reason
/// (<see cref="RedisStreamQueue.DeadLetterAsync"/>). Nothing a message holds, and no Redis outage, stops the host.
/// </summary>
public sealed class QueueWorker(
    IOptions<QueueOptions> queueOptions, IOptions<WorkerOptions> workerOptions, ITextScorer scorer, SqliteLedger ledger,
    IResultWriter writer, HostingMetrics metrics, Readiness readiness, ILogger<QueueWorker> logger) : BackgroundService
{
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxRedisBackoff = TimeSpan.FromSeconds(10);

    private readonly QueueOptions _options = queueOptions.Value;
    private readonly Channel<Settlement> _settlements = Channel.CreateUnbounded<Settlement>();

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (writer is not JsonFileResultWriter)
        {
            throw new InvalidOperationException(
                "the queue worker needs Worker:OutboxFormat=JsonFiles: one result file per document id and content hash is what makes a re-delivered job harmless.");
        }
        readiness.Expect(nameof(QueueWorker), $"connecting to Redis at {_options.Redis}");
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var queue = await RedisStreamQueue.ConnectAsync(_options);
        var consumer = _options.ConsumerName;
        var pipeline = new ScoringPipeline(scorer, ledger, writer, workerOptions.Value.ToPipelineOptions(), Settle, logger, metrics, "queue", OnDocument, readiness);
        try
        {
            pipeline.Recover(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }
        logger.LogInformation("Consuming {Stream} as {Consumer} in group {Group}", _options.Stream, consumer, _options.Group);

        var running = pipeline.RunAsync(stoppingToken);
        var settling = SettleLoopAsync(queue, consumer);
        readiness.MarkReady(nameof(QueueWorker));
        var claimIdle = TimeSpan.FromSeconds(_options.ClaimIdleSeconds);
        var nextClaim = DateTime.UtcNow;
        var backoff = IdlePoll;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var deliveries = new List<QueueDelivery>();
                if (DateTime.UtcNow >= nextClaim)
                {
                    deliveries.AddRange(await queue.ClaimIdleAsync(consumer, claimIdle, _options.ReadCount));
                    nextClaim = DateTime.UtcNow + TimeSpan.FromSeconds(Math.Max(1, _options.ClaimIdleSeconds / 4.0));
                }
                // Only take new jobs while there is room: jobs held here but not in the pipeline would sit pending.
                if (pipeline.InFlight < 2 * _options.ReadCount)
                    deliveries.AddRange(await queue.ReadNewAsync(consumer, _options.ReadCount));
                backoff = IdlePoll;
                if (deliveries.Count == 0)
                {
                    await Task.Delay(IdlePoll, stoppingToken);
                    continue;
                }
                foreach (var delivery in deliveries)
                    await DispatchAsync(delivery, pipeline, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // Redis gone or timing out: jobs stay pending in the group; keep trying with backoff.
                logger.LogError(e, "Reading jobs from {Stream} failed; trying again in {Delay} s", _options.Stream, backoff.TotalSeconds);
                await Task.Delay(backoff, CancellationToken.None);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxRedisBackoff.Ticks));
            }
        }
        pipeline.Complete();
        await running;
        _settlements.Writer.TryComplete();
        await settling;
        logger.LogInformation("Queue worker {Consumer} stopped", consumer);
    }

    /// <summary>Hands one job to the pipeline, or settles it at once; an exception leaves it pending for a re-delivery.</summary>
    private async Task DispatchAsync(QueueDelivery delivery, ScoringPipeline pipeline, CancellationToken cancellationToken)
    {
        try
        {
            var job = delivery.Job;
            if (Malformed(job) is { } problem)
            {
                DeadLetter(delivery, problem);
                return;
            }
            if (job.ContentHash.Length > 0 && writer.FindExisting([new ResultKey(job.DocId, job.ContentHash)]).Count == 1)
            {
                logger.LogDebug("Job {MessageId} ({DocId}) already has its result; acknowledging", delivery.MessageId, job.DocId);
                _settlements.Writer.TryWrite(new Settlement(delivery, null));
                return;
            }
            if (delivery.Deliveries > _options.MaxDeliveries)
            {
                DeadLetter(delivery, $"delivered {delivery.Deliveries} times without a result (Queue:MaxDeliveries is {_options.MaxDeliveries})");
                return;
            }
            await pipeline.SubmitAsync(new WorkItem(job.Path, job.DocId, delivery), cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            logger.LogError(e, "Job {MessageId} ({DocId}) failed before scoring (delivery {Deliveries})", delivery.MessageId, DocumentIds.Shorten(delivery.Job.DocId), delivery.Deliveries);
            if (delivery.Deliveries >= _options.MaxDeliveries)
                DeadLetter(delivery, $"failed {delivery.Deliveries} times before scoring: {e.Message}");
        }
    }

    /// <summary>Why a job cannot be scored whatever happens, or null.</summary>
    private static string? Malformed(QueueJob job)
    {
        if (job.DocId.Length == 0 || job.Path.Length == 0)
            return "the job has no document id or no path (fields 'id' and 'path')";
        if (DocumentIds.Problem(job.DocId) is { } problem)
            return $"document id '{DocumentIds.Shorten(job.DocId)}' cannot name a result file: {problem}; ids are relative paths such as 'sub/doc.txt'";
        if (job.ContentHash.Length > 0 && (job.ContentHash.Length != 64 || !job.ContentHash.All(char.IsAsciiHexDigitLower)))
            return $"content hash '{DocumentIds.Shorten(job.ContentHash)}' is not a lower-case hex SHA-256 (64 digits) or empty";
        return null;
    }

    private void DeadLetter(QueueDelivery delivery, string reason)
    {
        logger.LogWarning("Dead-lettering job {MessageId} ({DocId}) to {DeadStream}: {Reason}",
            delivery.MessageId, DocumentIds.Shorten(delivery.Job.DocId), _options.DeadStream, reason);
        _settlements.Writer.TryWrite(new Settlement(delivery, reason));
    }

    private void Settle(ItemOutcome outcome)
    {
        var delivery = (QueueDelivery)outcome.Item.Token!;
        if (outcome.Duplicate > 0)
        {
            // Its twin is being scored now: leave the job pending; claimed again later, it finds the result.
            return;
        }
        if (outcome.IsUnscorable)
            DeadLetter(delivery, outcome.FirstProblem ?? "not scorable");
        else
            _settlements.Writer.TryWrite(new Settlement(delivery, null));
    }

    private void OnDocument(WorkOutcome outcome)
    {
        if (outcome.Status == WorkStatus.AlreadyDone)
            CopyEarlierResult(outcome);
    }

    /// <summary>
    /// The same content was scored under another document id: give this id its own result (a copy with its id and path)
    /// rather than score again, so every job ends with a result for its document id.
    /// </summary>
    private void CopyEarlierResult(WorkOutcome outcome)
    {
        if (outcome.Existing is not { ContentHash: { } hash, ResultPath: { } earlier } || !File.Exists(earlier))
            return;
        var key = new ResultKey(outcome.DocId, hash);
        if (writer.FindExisting([key]).Count == 1)
            return;
        var record = JsonSerializer.Deserialize(File.ReadAllBytes(earlier), ResultJson.Record)!;
        writer.Write([record with { DocId = outcome.DocId, Path = outcome.DocPath }]);
    }

    /// <summary>Acknowledges settled jobs in batches and dead-letters the ones set aside; failures leave them pending.</summary>
    private async Task SettleLoopAsync(RedisStreamQueue queue, string consumer)
    {
        var acks = new List<string>();
        while (await _settlements.Reader.WaitToReadAsync())
        {
            while (acks.Count < 256 && _settlements.Reader.TryRead(out var settlement))
            {
                if (settlement.DeadReason is null)
                {
                    acks.Add(settlement.Delivery.MessageId);
                    continue;
                }
                try
                {
                    await queue.DeadLetterAsync(settlement.Delivery, settlement.DeadReason, consumer);
                }
                catch (Exception e)
                {
                    logger.LogWarning(e, "Dead-lettering job {MessageId} failed; it stays pending and is set aside at its next delivery", settlement.Delivery.MessageId);
                }
            }
            try
            {
                if (acks.Count > 0)
                    await queue.AcknowledgeAsync(acks);
            }
            catch (Exception e)
            {
                // Unacknowledged jobs are re-delivered and then acknowledged without scoring: nothing is lost.
                logger.LogWarning(e, "Acknowledging {Count} jobs failed; they will be re-delivered", acks.Count);
            }
            acks.Clear();
        }
    }

    /// <summary>A job done with: acknowledged, or dead-lettered with <see cref="DeadReason"/>.</summary>
    private sealed record Settlement(QueueDelivery Delivery, string? DeadReason);
}
