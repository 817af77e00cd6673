using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PeftOnnx.Hosting.Pipeline;
using PeftOnnx.Hosting.Queue;
using PeftOnnx.Hosting.Tests.Support;
using Xunit.Abstractions;

namespace PeftOnnx.Hosting.Tests.Queue;

/// <summary>
/// Hostile and broken jobs on the stream: an id that climbs out of the outbox, a hash that is not one, no id at all, a
/// binary document. Each is dead-lettered with its reason, nothing is written outside the outbox, the good job is
/// scored, and the worker keeps consuming.
/// </summary>
public sealed class QueueDeadLetterTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [SkippableFact]
    public async Task Bad_jobs_are_dead_lettered_with_a_reason_and_never_stop_the_worker()
    {
        using var redis = await RedisServer.StartAsync();
        using var temp = new TempFolder("deadletter");
        var shared = temp.Combine("shared");
        Directory.CreateDirectory(shared);
        var text = "a perfectly good document about packages";
        File.WriteAllText(Path.Combine(shared, "good.txt"), text);
        File.WriteAllBytes(Path.Combine(shared, "blob.bin"), [0x7F, 0x45, 0x4C, 0x46, 0x00, 0x01]);
        var hash = ContentHash.Of(text);
        var options = new QueueOptions { Redis = redis.Endpoint };
        await using var queue = await RedisStreamQueue.ConnectAsync(options);
        await queue.EnqueueAsync(new QueueJob("../../evil", Path.Combine(shared, "good.txt"), hash));
        await queue.EnqueueAsync(new QueueJob("sub/h.txt", Path.Combine(shared, "good.txt"), "/../../../evil"));
        await queue.EnqueueAsync(new QueueJob("", "", ""));
        await queue.EnqueueAsync(new QueueJob("blob.bin", Path.Combine(shared, "blob.bin"), ""));
        await queue.EnqueueAsync(new QueueJob("good.txt", Path.Combine(shared, "good.txt"), hash));

        var outbox = temp.Combine("work", "outbox");
        await using var host = await ServeHostFixture.StartAsync(new Dictionary<string, string?>
        {
            ["Worker:Scorer"] = "hash",
            ["Worker:Outbox"] = outbox,
            ["Worker:OutboxFormat"] = "JsonFiles",
            ["Worker:BatchWaitMs"] = "5",
            ["Queue:Redis"] = redis.Endpoint,
            ["Queue:Consumer"] = "worker1",
        });
        IReadOnlyList<IReadOnlyDictionary<string, string>> dead = [];
        await Poll.UntilAsync(() =>
        {
            dead = queue.ReadDeadAsync().GetAwaiter().GetResult();
            return dead.Count == 4 && queue.PendingCountAsync().GetAwaiter().GetResult() == 0;
        }, Bound, () => $"4 dead-lettered jobs and none pending (now {dead.Count} dead)");
        foreach (var entry in dead)
            output.WriteLine($"{entry["id"]}: {entry["reason"]}");

        var reasons = dead.ToDictionary(e => e["id"], e => e["reason"]);
        Assert.Contains("cannot name a result file: it has a '..' segment", reasons["../../evil"], StringComparison.Ordinal);
        Assert.Contains("is not a lower-case hex SHA-256", reasons["sub/h.txt"], StringComparison.Ordinal);
        Assert.Contains("no document id", reasons[""], StringComparison.Ordinal);
        Assert.StartsWith("binary", reasons["blob.bin"], StringComparison.Ordinal);
        Assert.All(dead, e => Assert.Equal("worker1", e["consumer"]));

        var results = ResultFiles.ReadJsonFiles(Path.Combine(outbox, "results"));
        Assert.Equal(["good.txt"], results.Select(r => r.DocId));
        Assert.Empty(Directory.EnumerateFiles(temp.Path, "*evil*", SearchOption.AllDirectories));
        Assert.False(Directory.Exists(Path.Combine(outbox, "failed")));

        // Still consuming: a job enqueued now is scored.
        File.WriteAllText(Path.Combine(shared, "later.txt"), "a later document");
        await queue.EnqueueAsync(new QueueJob("later.txt", Path.Combine(shared, "later.txt"), ""));
        await Poll.UntilAsync(() => ResultFiles.ReadJsonFiles(Path.Combine(outbox, "results")).Any(r => r.DocId == "later.txt"), Bound, () => "the later job scored");
        var worker = host.Services.GetServices<IHostedService>().OfType<QueueWorker>().Single();
        Assert.False(worker.ExecuteTask!.IsCompleted, "the queue worker stopped");
    }
}
