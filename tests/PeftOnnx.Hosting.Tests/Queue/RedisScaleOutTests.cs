using PeftOnnx.Hosting.Queue;
using PeftOnnx.Hosting.Tests.Support;
using Xunit.Abstractions;

namespace PeftOnnx.Hosting.Tests.Queue;

/// <summary>
/// The scale-out test: `peftonnx enqueue` puts a folder on a Redis stream, three `peftonnx serve --redis` processes
/// consume one group, one is killed with SIGKILL mid-run; its pending jobs are claimed by the others and every
/// document ends with exactly one result.
/// </summary>
public sealed class RedisScaleOutTests(ITestOutputHelper output)
{
    private const int Documents = 1500;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    [SkippableFact]
    public async Task Three_workers_one_killed_every_job_scored_exactly_one_result_per_document()
    {
        using var redis = await RedisServer.StartAsync();
        using var temp = new TempFolder("scaleout");
        var shared = temp.Combine("shared");
        var outbox = temp.Combine("outbox");
        var results = Path.Combine(outbox, "results");
        var ids = DocumentFolder.Generate(shared, Documents, seed: 7);

        var (enqueueCode, enqueueOutput) = await PeftOnnxProcess.RunAsync(Bound, "enqueue", shared, "--redis", redis.Endpoint);
        Assert.True(enqueueCode == 0, enqueueOutput);
        Assert.Contains($"enqueued {Documents} documents", enqueueOutput, StringComparison.Ordinal);

        var workers = Enumerable.Range(1, 3).Select(i => PeftOnnxProcess.Start(
            "serve", "--scorer", "hash", "--redis", redis.Endpoint, "--consumer", $"worker{i}", "--outbox", outbox, "--format", "json-files",
            "--urls", "none", "--batch-size", "16", $"--Worker:Ledger={Path.Combine(temp.Path, $"ledger{i}.db")}",
            "--Worker:HashScorerDelayMs=25", "--Queue:ClaimIdleSeconds=3")).ToList();
        try
        {
            await Poll.UntilAsync(() => ResultFiles.CountJsonFiles(results) >= 300 || workers.Any(w => w.HasExited), Bound,
                () => $"300 results before the kill; worker 1 output:\n{workers[0].Output}");
            Assert.All(workers, w => Assert.False(w.HasExited, w.Output));
            workers[0].KillHard();
            var atKill = ResultFiles.CountJsonFiles(results);
            output.WriteLine($"worker1 killed with SIGKILL at {atKill} results");
            Assert.InRange(atKill, 300, Documents - 1);

            await using var queue = await RedisStreamQueue.ConnectAsync(new QueueOptions { Redis = redis.Endpoint });
            long pending = -1;
            await Poll.UntilAsync(() =>
            {
                pending = queue.PendingCountAsync().GetAwaiter().GetResult();
                return ResultFiles.CountJsonFiles(results) >= Documents && pending == 0;
            }, Bound, () => $"{Documents} results and no pending jobs (now {ResultFiles.CountJsonFiles(results)} results, {pending} pending)", 200);

            foreach (var worker in workers.Skip(1))
                worker.Terminate();
            foreach (var worker in workers.Skip(1))
                await worker.WaitForExitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0L, await queue.LagAsync() ?? 0);
            Assert.Equal(Documents, await queue.LengthAsync());
        }
        finally
        {
            foreach (var worker in workers)
                worker.Dispose();
        }

        var entries = ResultFiles.ReadJsonFiles(results);
        var perDocument = entries.GroupBy(e => e.DocId).ToList();
        output.WriteLine($"{entries.Count} result files for {Documents} documents; {perDocument.Count(g => g.Count() > 1)} documents with more than one");
        Assert.Equal(Documents, entries.Count);
        Assert.All(perDocument, g => Assert.Single(g));
        Assert.Equal(ids.Order(), perDocument.Select(g => g.Key).Order());
        Assert.All(entries, e => Assert.Equal(Path.Combine(shared, e.DocId), e.Path));
        var scoredBy = Enumerable.Range(2, 2).Select(i => ResultFilesScoredBy(temp.Combine($"ledger{i}.db"))).ToList();
        output.WriteLine($"ledger rows: worker2 {scoredBy[0]}, worker3 {scoredBy[1]}");
    }

    private static int ResultFilesScoredBy(string ledgerPath)
    {
        using var ledger = Hosting.Ledger.SqliteLedger.Open(ledgerPath);
        return ledger.All().Count(r => r.Status == Hosting.Ledger.DocumentStatus.Done);
    }
}
