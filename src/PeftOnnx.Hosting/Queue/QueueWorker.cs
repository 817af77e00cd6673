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
/// and acknowledges each job only after its result file is durably written (or it was recorded as failed). Jobs a dead
/// worker left pending are claimed after Queue:ClaimIdleSeconds. A job whose result already exists (a re-delivery
/// after a crash between write and acknowledge) is acknowledged without scoring.
/// </summary>
public sealed class QueueWorker(
    IOptions<QueueOptions> queueOptions, IOptions<WorkerOptions> workerOptions, ITextScorer scorer, SqliteLedger ledger,
    IResultWriter writer, HostingMetrics metrics, Readiness readiness, ILogger<QueueWorker> logger) : BackgroundService
{
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(200);

    private readonly QueueOptions _options = queueOptions.Value;
    private readonly FailedArea _failed = new(workerOptions.Value.FailedPath);
    private readonly Channel<string> _acks = Channel.CreateUnbounded<string>();

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
        var pipeline = new ScoringPipeline(scorer, ledger, writer, workerOptions.Value.ToPipelineOptions(), Settle, logger, metrics, "queue", OnDocument);
        pipeline.Recover();
        logger.LogInformation("Consuming {Stream} as {Consumer} in group {Group}", _options.Stream, consumer, _options.Group);

        var running = pipeline.RunAsync(stoppingToken);
        var acking = AcknowledgeLoopAsync(queue);
        readiness.MarkReady(nameof(QueueWorker));
        var claimIdle = TimeSpan.FromSeconds(_options.ClaimIdleSeconds);
        var nextClaim = DateTime.UtcNow;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
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
                if (deliveries.Count == 0)
                {
                    await Task.Delay(IdlePoll, stoppingToken);
                    continue;
                }
                foreach (var delivery in deliveries)
                    await DispatchAsync(delivery, pipeline, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        pipeline.Complete();
        await running;
        _acks.Writer.TryComplete();
        await acking;
        logger.LogInformation("Queue worker {Consumer} stopped", consumer);
    }

    private async Task DispatchAsync(QueueDelivery delivery, ScoringPipeline pipeline, CancellationToken cancellationToken)
    {
        var job = delivery.Job;
        if (job.DocId.Length == 0 || job.Path.Length == 0)
        {
            logger.LogWarning("Job {MessageId} has no document id or path; acknowledging it as malformed", delivery.MessageId);
            _acks.Writer.TryWrite(delivery.MessageId);
            return;
        }
        if (job.ContentHash.Length > 0 && writer.FindExisting([new ResultKey(job.DocId, job.ContentHash)]).Count == 1)
        {
            logger.LogDebug("Job {MessageId} ({DocId}) already has its result; acknowledging", delivery.MessageId, job.DocId);
            _acks.Writer.TryWrite(delivery.MessageId);
            return;
        }
        if (delivery.Deliveries > _options.MaxDeliveries)
        {
            var reason = $"delivered {delivery.Deliveries} times without a result (Queue:MaxDeliveries is {_options.MaxDeliveries})";
            _failed.Park(job.Path, job.DocId, reason, (int)delivery.Deliveries, moveInput: false);
            _acks.Writer.TryWrite(delivery.MessageId);
            return;
        }
        await pipeline.SubmitAsync(new WorkItem(job.Path, job.DocId, delivery.MessageId), cancellationToken);
    }

    private void Settle(ItemOutcome outcome)
    {
        var messageId = (string)outcome.Item.Token!;
        if (outcome.Duplicate > 0)
        {
            // Its twin is being scored now: leave the job pending; claimed again later, it finds the result.
            return;
        }
        if (outcome.IsUnscorable)
        {
            logger.LogWarning("Not scored {DocId}: {Reason}", outcome.Item.DocId, outcome.FirstProblem);
            _failed.Park(outcome.Item.Path, outcome.Item.DocId, outcome.FirstProblem ?? "not scorable", outcome.Rejected + outcome.Failed, moveInput: false);
        }
        _acks.Writer.TryWrite(messageId);
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
        var record = JsonSerializer.Deserialize<ResultRecord>(File.ReadAllBytes(earlier), ResultJson.Compact)!;
        writer.Write([record with { DocId = outcome.DocId, Path = outcome.DocPath }]);
    }

    private async Task AcknowledgeLoopAsync(RedisStreamQueue queue)
    {
        var batch = new List<string>();
        while (await _acks.Reader.WaitToReadAsync())
        {
            while (batch.Count < 256 && _acks.Reader.TryRead(out var id))
                batch.Add(id);
            try
            {
                await queue.AcknowledgeAsync(batch);
            }
            catch (Exception e)
            {
                // Unacknowledged jobs are re-delivered and then acknowledged without scoring: nothing is lost.
                logger.LogWarning(e, "Acknowledging {Count} jobs failed; they will be re-delivered", batch.Count);
            }
            batch.Clear();
        }
    }
}
