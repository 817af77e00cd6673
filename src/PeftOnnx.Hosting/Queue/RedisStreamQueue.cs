using StackExchange.Redis;

namespace PeftOnnx.Hosting.Queue;

/// <summary>
/// Jobs on a Redis stream consumed by one consumer group: XADD to enqueue, XREADGROUP to take new jobs, XACK once the
/// result is durably written, XAUTOCLAIM to take over jobs left pending by a consumer that stopped acknowledging
/// (a dead worker). Delivery is at least once; results are keyed by document id + content hash, so a second delivery
/// finds the result and only acknowledges. Jobs that cannot be scored are dead-lettered to a second stream with the reason.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "It is a job queue; the design names it so.")]
public sealed class RedisStreamQueue : IAsyncDisposable
{
    private const string IdField = "id";
    private const string PathField = "path";
    private const string HashField = "hash";

    private readonly ConnectionMultiplexer _redis;
    private readonly IDatabase _db;
    private readonly QueueOptions _options;

    private RedisStreamQueue(ConnectionMultiplexer redis, QueueOptions options)
    {
        _redis = redis;
        _db = redis.GetDatabase();
        _options = options;
    }

    public static async Task<RedisStreamQueue> ConnectAsync(QueueOptions options)
    {
        ConnectionMultiplexer redis;
        try
        {
            redis = await ConnectionMultiplexer.ConnectAsync(options.Redis!);
        }
        catch (RedisConnectionException e)
        {
            throw new InvalidOperationException($"cannot reach Redis at '{options.Redis}' (Queue:Redis): {e.Message}", e);
        }
        var queue = new RedisStreamQueue(redis, options);
        await queue.EnsureGroupAsync();
        return queue;
    }

    /// <summary>Creates the stream and the consumer group when missing; the group starts at the stream's beginning.</summary>
    public async Task EnsureGroupAsync()
    {
        try
        {
            await _db.StreamCreateConsumerGroupAsync(_options.Stream, _options.Group, StreamPosition.Beginning, createStream: true);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
        }
    }

    public async Task<string> EnqueueAsync(QueueJob job)
    {
        var id = await _db.StreamAddAsync(_options.Stream, [
            new NameValueEntry(IdField, job.DocId), new NameValueEntry(PathField, job.Path), new NameValueEntry(HashField, job.ContentHash)]);
        return id.ToString();
    }

    /// <summary>Takes up to <paramref name="count"/> jobs never delivered to anyone (XREADGROUP &gt;).</summary>
    public async Task<IReadOnlyList<QueueDelivery>> ReadNewAsync(string consumer, int count)
    {
        var entries = await _db.StreamReadGroupAsync(_options.Stream, _options.Group, consumer, StreamPosition.NewMessages, count);
        return entries.Select(e => ToDelivery(e, 1)).ToArray();
    }

    /// <summary>
    /// Takes over up to <paramref name="count"/> jobs pending on any consumer for longer than <paramref name="minIdle"/>
    /// (XAUTOCLAIM), with their delivery counts.
    /// </summary>
    public async Task<IReadOnlyList<QueueDelivery>> ClaimIdleAsync(string consumer, TimeSpan minIdle, int count)
    {
        var claimed = await _db.StreamAutoClaimAsync(_options.Stream, _options.Group, consumer, (long)minIdle.TotalMilliseconds, "0-0", count);
        if (claimed.ClaimedEntries.Length == 0)
            return [];
        var deliveries = new List<QueueDelivery>(claimed.ClaimedEntries.Length);
        foreach (var entry in claimed.ClaimedEntries)
        {
            if (entry.IsNull)
                continue;
            var pending = await _db.StreamPendingMessagesAsync(_options.Stream, _options.Group, 1, consumer, entry.Id, entry.Id);
            deliveries.Add(ToDelivery(entry, pending.Length == 1 ? pending[0].DeliveryCount : 1));
        }
        return deliveries;
    }

    /// <summary>
    /// Sets a job aside: copies it to the dead-letter stream (Queue:DeadStream) with the reason, its delivery count, the
    /// consumer and the time, then acknowledges it. A crash in between only copies it twice.
    /// </summary>
    public async Task DeadLetterAsync(QueueDelivery delivery, string reason, string consumer)
    {
        await _db.StreamAddAsync(_options.DeadStream, [
            new NameValueEntry(IdField, delivery.Job.DocId), new NameValueEntry(PathField, delivery.Job.Path),
            new NameValueEntry(HashField, delivery.Job.ContentHash), new NameValueEntry("message_id", delivery.MessageId),
            new NameValueEntry("deliveries", delivery.Deliveries), new NameValueEntry("reason", reason),
            new NameValueEntry("consumer", consumer), new NameValueEntry("at", DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture))]);
        await AcknowledgeAsync([delivery.MessageId]);
    }

    /// <summary>The dead-letter stream's entries as field -> value maps, oldest first.</summary>
    public async Task<IReadOnlyList<IReadOnlyDictionary<string, string>>> ReadDeadAsync() =>
        (await _db.StreamRangeAsync(_options.DeadStream)).Select(e => (IReadOnlyDictionary<string, string>)e.Values
            .ToDictionary(v => v.Name.ToString(), v => v.Value.ToString())).ToList();

    public Task<long> AcknowledgeAsync(IReadOnlyList<string> messageIds) =>
        _db.StreamAcknowledgeAsync(_options.Stream, _options.Group, messageIds.Select(id => (RedisValue)id).ToArray());

    /// <summary>Jobs delivered and not yet acknowledged, across the group.</summary>
    public async Task<long> PendingCountAsync() => (await _db.StreamPendingAsync(_options.Stream, _options.Group)).PendingMessageCount;

    /// <summary>Jobs on the stream (acknowledged or not).</summary>
    public Task<long> LengthAsync() => _db.StreamLengthAsync(_options.Stream);

    /// <summary>Jobs not yet delivered to the group (the group's lag; null when Redis cannot say).</summary>
    public async Task<long?> LagAsync()
    {
        var groups = await _db.StreamGroupInfoAsync(_options.Stream);
        return groups.FirstOrDefault(g => g.Name == _options.Group).Lag;
    }

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();

    private static QueueDelivery ToDelivery(StreamEntry entry, long deliveries) => new(
        entry.Id.ToString(),
        new QueueJob((string?)entry[IdField] ?? "", (string?)entry[PathField] ?? "", (string?)entry[HashField] ?? ""),
        deliveries);
}
