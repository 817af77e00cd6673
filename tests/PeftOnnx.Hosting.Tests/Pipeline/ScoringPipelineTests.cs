using System.Collections.Concurrent;
using PeftOnnx.Hosting.Ledger;
using PeftOnnx.Hosting.Outbox;
using PeftOnnx.Hosting.Pipeline;
using PeftOnnx.Hosting.Scoring;
using PeftOnnx.Hosting.Tests.Support;
using Xunit.Abstractions;

namespace PeftOnnx.Hosting.Tests.Pipeline;

public sealed class ScoringPipelineTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly TempFolder _temp = new("pipeline");

    [Fact]
    public async Task Bad_documents_are_recorded_with_a_reason_and_do_not_stop_the_run()
    {
        var inbox = _temp.Combine("in");
        var good = DocumentFolder.Generate(inbox, 40);
        File.WriteAllBytes(Path.Combine(inbox, "binary.bin"), [0x50, 0x4B, 0x03, 0x04, 0x00, 0x00, 0x08]);
        File.WriteAllBytes(Path.Combine(inbox, "latin1.txt"), [0x63, 0x61, 0x66, 0xE9, 0x20, 0x21]);
        File.WriteAllBytes(Path.Combine(inbox, "empty.txt"), []);
        using (var big = File.Create(Path.Combine(inbox, "huge.txt")))
        {
            var line = "a fifty megabyte text document line\n"u8.ToArray();
            for (long written = 0; written < 50L * 1024 * 1024; written += line.Length)
                big.Write(line);
        }
        var lockedPath = Path.Combine(inbox, "locked.txt");
        File.WriteAllText(lockedPath, "held open exclusively by another process");
        using var locked = new FileStream(lockedPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        var vanished = Path.Combine(inbox, "vanished.txt");
        File.WriteAllText(vanished, "deleted while queued");

        var outcomes = new ConcurrentBag<WorkOutcome>();
        using var ledger = SqliteLedger.Open(_temp.Combine("ledger.db"));
        using var writer = new JsonlResultWriter(_temp.Combine("results.jsonl"));
        var scorer = new HashTextScorer(HashTextScorer.DefaultLabels, TimeSpan.Zero);
        var pipeline = new ScoringPipeline(scorer, ledger, writer, new PipelineOptions { BatchSize = 8 }, _ => { }, new TestLogger(output),
            onDocument: outcomes.Add);
        var files = Directory.GetFiles(inbox, "*", SearchOption.AllDirectories);
        var submitting = Task.Run(async () =>
        {
            foreach (var file in files)
                await pipeline.SubmitAsync(new WorkItem(file, Path.GetRelativePath(inbox, file)), CancellationToken.None);
            pipeline.Complete();
        });
        File.Delete(vanished);
        await pipeline.RunAsync(CancellationToken.None).WaitAsync(Bound);
        await submitting;

        var rejected = outcomes.Where(o => o.Status == WorkStatus.Rejected).ToDictionary(o => Path.GetFileName(o.DocPath), o => o.Reason!);
        foreach (var (file, reason) in rejected.OrderBy(r => r.Key))
            output.WriteLine($"{file}: {reason}");
        Assert.Equal(good.Count, outcomes.Count(o => o.Status == WorkStatus.Scored));
        Assert.StartsWith("binary", rejected["binary.bin"], StringComparison.Ordinal);
        Assert.StartsWith("not valid UTF-8", rejected["latin1.txt"], StringComparison.Ordinal);
        Assert.StartsWith("empty", rejected["empty.txt"], StringComparison.Ordinal);
        Assert.StartsWith("too large", rejected["huge.txt"], StringComparison.Ordinal);
        Assert.StartsWith("unreadable", rejected["locked.txt"], StringComparison.Ordinal);
        Assert.StartsWith("not found", rejected["vanished.txt"], StringComparison.Ordinal);
        Assert.Equal(6, rejected.Count);

        var rows = ledger.All();
        Assert.Equal(good.Count, rows.Count(r => r.Status == DocumentStatus.Done));
        Assert.Equal(6, rows.Count(r => r.Status == DocumentStatus.Failed && r.Error is not null));
        Assert.Equal(good.Order(), JsonlResultWriter.ReadKeys(_temp.Combine("results.jsonl")).Select(k => k.DocId).Order());
    }

    [Fact]
    public async Task With_DropVanished_a_file_gone_before_it_is_read_leaves_no_row_and_no_report()
    {
        // The inbox worker's race: a rescan lists a file just as the worker moves it to processed/ after scoring it.
        var inbox = _temp.Combine("in");
        var good = DocumentFolder.Generate(inbox, 5);
        var gone = Path.Combine(inbox, "gone.txt");
        var documents = new ConcurrentBag<WorkOutcome>();
        var items = new ConcurrentBag<ItemOutcome>();
        using var ledger = SqliteLedger.Open(_temp.Combine("ledger.db"));
        using var writer = new JsonlResultWriter(_temp.Combine("results.jsonl"));
        var scorer = new HashTextScorer(HashTextScorer.DefaultLabels, TimeSpan.Zero);
        var pipeline = new ScoringPipeline(scorer, ledger, writer, new PipelineOptions { BatchSize = 8, DropVanished = true }, items.Add,
            new TestLogger(output), onDocument: documents.Add);
        var submitting = Task.Run(async () =>
        {
            foreach (var file in Directory.GetFiles(inbox, "*", SearchOption.AllDirectories).Append(gone))
                await pipeline.SubmitAsync(new WorkItem(file, Path.GetRelativePath(inbox, file)), CancellationToken.None);
            pipeline.Complete();
        });
        await pipeline.RunAsync(CancellationToken.None).WaitAsync(Bound);
        await submitting;

        output.WriteLine($"{documents.Count} document outcomes, {items.Count} item outcomes, {ledger.All().Count} ledger rows");
        Assert.Equal(good.Count, documents.Count(o => o.Status == WorkStatus.Scored));
        Assert.DoesNotContain(documents, o => o.DocPath == gone);
        Assert.DoesNotContain(items, o => o.Item.Path == gone);
        Assert.Equal(good.Count, ledger.All().Count);
        Assert.Equal(0, pipeline.InFlight);
    }

    [Fact]
    public async Task A_document_that_fails_to_score_is_retried_then_failed_without_sinking_its_batch()
    {
        var inbox = _temp.Combine("in");
        DocumentFolder.Generate(inbox, 10);
        File.WriteAllText(Path.Combine(inbox, "poison.txt"), "poison pill");
        var scorer = new FailingScorer(text => text.Contains("poison", StringComparison.Ordinal));
        var items = new ConcurrentBag<ItemOutcome>();
        using var ledger = SqliteLedger.Open(_temp.Combine("ledger.db"));
        using var writer = new JsonlResultWriter(_temp.Combine("results.jsonl"));
        var pipeline = new ScoringPipeline(scorer, ledger, writer, new PipelineOptions { BatchSize = 16, MaxAttempts = 2 }, items.Add, new TestLogger(output));
        await SubmitAllAsync(pipeline, inbox);
        await pipeline.RunAsync(CancellationToken.None).WaitAsync(Bound);

        var poison = Assert.Single(items, i => i.Failed == 1);
        Assert.EndsWith("poison.txt", poison.Item.Path, StringComparison.Ordinal);
        Assert.Contains("told to fail", poison.FirstProblem, StringComparison.Ordinal);
        Assert.Equal(10, items.Sum(i => i.Scored));
        var row = Assert.Single(ledger.All(), r => r.Status == DocumentStatus.Failed);
        Assert.Equal(2, row.Attempts);
    }

    [Fact]
    public async Task Recovery_commits_results_written_before_a_crash_and_rescores_the_rest()
    {
        var inbox = _temp.Combine("in");
        var ids = DocumentFolder.Generate(inbox, 2);
        var results = _temp.Combine("results.jsonl");
        var scorer = new HashTextScorer(HashTextScorer.DefaultLabels, TimeSpan.Zero);
        using var ledger = SqliteLedger.Open(_temp.Combine("ledger.db"));

        // The state a kill -9 leaves: both rows marked writing; only the first result reached the outbox.
        var hashes = ids.Select(id => ContentHash.Of(File.ReadAllText(Path.Combine(inbox, id)))).ToArray();
        var rows = ids.Select((id, i) => ledger.TryBegin(Path.Combine(inbox, id), id, hashes[i], scorer.ModelId, 3, _ => false).Entry).ToArray();
        ledger.MarkWriting(rows.Select(r => r.Id).ToList());
        using (var crashed = new JsonlResultWriter(results))
        {
            crashed.Write([new ResultRecord { DocId = ids[0], Path = Path.Combine(inbox, ids[0]), ContentHash = hashes[0], ModelId = scorer.ModelId, Label = "negative" }]);
        }

        using var writer = new JsonlResultWriter(results);
        var outcomes = new ConcurrentBag<WorkOutcome>();
        var pipeline = new ScoringPipeline(scorer, ledger, writer, new PipelineOptions(), _ => { }, new TestLogger(output), onDocument: outcomes.Add);
        Assert.Equal((1, 1), pipeline.Recover());
        await SubmitAllAsync(pipeline, inbox);
        await pipeline.RunAsync(CancellationToken.None).WaitAsync(Bound);

        Assert.Equal(WorkStatus.AlreadyDone, outcomes.Single(o => o.DocId == ids[0]).Status);
        Assert.Equal(WorkStatus.Scored, outcomes.Single(o => o.DocId == ids[1]).Status);
        Assert.Equal(ids, JsonlResultWriter.ReadKeys(results).Select(k => k.DocId));
        Assert.All(ledger.All(), r => Assert.Equal(DocumentStatus.Done, r.Status));
    }

    [Fact]
    public async Task Cancelling_finishes_the_claimed_batches_and_leaves_the_rest_untouched()
    {
        var inbox = _temp.Combine("in");
        DocumentFolder.Generate(inbox, 300);
        using var ledger = SqliteLedger.Open(_temp.Combine("ledger.db"));
        using var writer = new JsonlResultWriter(_temp.Combine("results.jsonl"));
        var scorer = new HashTextScorer(HashTextScorer.DefaultLabels, TimeSpan.FromMilliseconds(20));
        using var stop = new CancellationTokenSource();
        var scored = 0;
        var pipeline = new ScoringPipeline(scorer, ledger, writer, new PipelineOptions { BatchSize = 8 }, _ => { }, new TestLogger(output),
            onDocument: o =>
            {
                if (o.Status == WorkStatus.Scored && Interlocked.Increment(ref scored) == 40)
                    stop.Cancel();
            });
        var running = pipeline.RunAsync(stop.Token);
        try
        {
            foreach (var file in Directory.GetFiles(inbox, "*", SearchOption.AllDirectories))
                await pipeline.SubmitAsync(new WorkItem(file, Path.GetRelativePath(inbox, file)), stop.Token);
        }
        catch (OperationCanceledException)
        {
        }
        await running.WaitAsync(Bound);

        var rows = ledger.All();
        output.WriteLine($"stopped after {scored} scored; ledger rows {rows.Count}");
        // Everything claimed was finished: no row is left half-way, and every done row has its result.
        Assert.All(rows, r => Assert.Equal(DocumentStatus.Done, r.Status));
        Assert.Equal(rows.Count, JsonlResultWriter.ReadKeys(_temp.Combine("results.jsonl")).Count());
        Assert.InRange(rows.Count, 40, 299);
    }

    private static async Task SubmitAllAsync(ScoringPipeline pipeline, string inbox)
    {
        foreach (var file in Directory.GetFiles(inbox, "*", SearchOption.AllDirectories).Order())
            await pipeline.SubmitAsync(new WorkItem(file, Path.GetRelativePath(inbox, file)), CancellationToken.None);
        pipeline.Complete();
    }

    public void Dispose() => _temp.Dispose();
}
