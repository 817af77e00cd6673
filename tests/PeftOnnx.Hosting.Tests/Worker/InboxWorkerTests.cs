using PeftOnnx.Hosting.Ledger;
using PeftOnnx.Hosting.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace PeftOnnx.Hosting.Tests.Worker;

/// <summary>The inbox worker inside a running host: new, changed, half-written and bad documents.</summary>
public sealed class InboxWorkerTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly TempFolder _temp = new("inbox");

    private Dictionary<string, string?> Settings(string processed) => new()
    {
        ["Worker:Scorer"] = "hash",
        ["Worker:Inbox:0"] = _temp.Combine("inbox"),
        ["Worker:Outbox"] = _temp.Combine("outbox"),
        ["Worker:Processed"] = processed,
        ["Worker:SettleMs"] = "300",
        ["Worker:RescanSeconds"] = "1",
        ["Worker:BatchWaitMs"] = "5",
    };

    private string Results => _temp.Combine("outbox", "results.jsonl");

    [Fact]
    public async Task New_documents_are_scored_and_moved_bad_ones_go_to_failed_with_a_reason()
    {
        Directory.CreateDirectory(_temp.Combine("inbox", "deep", "er"));
        await using var host = await ServeHostFixture.StartAsync(Settings("Move"));
        File.WriteAllText(_temp.Combine("inbox", "deep", "er", "a.txt"), "a document about kernels");
        File.WriteAllBytes(_temp.Combine("inbox", "b.bin"), [1, 2, 0, 3]);

        await Poll.UntilAsync(() => File.Exists(_temp.Combine("outbox", "processed", "deep", "er", "a.txt"))
            && File.Exists(_temp.Combine("outbox", "failed", "b.bin.reason.txt")), Bound, () => "a.txt processed and b.bin failed");
        var result = Assert.Single(ResultFiles.ReadJsonl(Results));
        Assert.Equal("deep/er/a.txt", result.DocId);
        Assert.Equal(_temp.Combine("inbox", "deep", "er", "a.txt"), result.Path);
        Assert.Contains("binary", File.ReadAllText(_temp.Combine("outbox", "failed", "b.bin.reason.txt")), StringComparison.Ordinal);
        Assert.True(File.Exists(_temp.Combine("outbox", "failed", "b.bin")));
        Assert.Empty(Directory.EnumerateFiles(_temp.Combine("inbox"), "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task In_mark_mode_inputs_stay_and_only_changed_content_is_scored_again()
    {
        var path = _temp.Combine("inbox", "note.txt");
        Directory.CreateDirectory(_temp.Combine("inbox"));
        File.WriteAllText(path, "first version");
        await using var host = await ServeHostFixture.StartAsync(Settings("Mark"));
        await Poll.UntilAsync(() => ResultFiles.CountJsonlLines(Results) == 1, Bound, () => "the first version scored");
        // Several rescans pass over the unchanged file without scoring it again.
        await Task.Delay(2500);
        Assert.Equal(1, ResultFiles.CountJsonlLines(Results));

        File.WriteAllText(path, "second version, edited");
        await Poll.UntilAsync(() => ResultFiles.CountJsonlLines(Results) == 2, Bound, () => "the changed file scored again");
        var results = ResultFiles.ReadJsonl(Results);
        Assert.All(results, r => Assert.Equal("note.txt", r.DocId));
        Assert.NotEqual(results[0].ContentHash, results[1].ContentHash);
        Assert.True(File.Exists(path));
        var ledger = host.Services.GetRequiredService<SqliteLedger>();
        Assert.Equal(2, ledger.All().Count(r => r.Status == DocumentStatus.Done));
    }

    [Fact]
    public async Task A_file_still_being_written_is_scored_once_it_settles()
    {
        Directory.CreateDirectory(_temp.Combine("inbox"));
        var settings = Settings("Move");
        // The writer pauses 100 ms between parts; a settle time 15x longer keeps a loaded CI machine (where a
        // 100 ms delay can stretch past 300 ms) from seeing the file as settled mid-write.
        settings["Worker:SettleMs"] = "1500";
        await using var host = await ServeHostFixture.StartAsync(settings);
        var path = _temp.Combine("inbox", "growing.txt");
        await using (var writer = new StreamWriter(path))
        {
            for (var i = 0; i < 10; i++)
            {
                await writer.WriteAsync($"part {i} ");
                await writer.FlushAsync();
                await Task.Delay(100);
            }
        }
        await Poll.UntilAsync(() => ResultFiles.CountJsonlLines(Results) == 1, Bound, () => "the settled file scored");
        await Task.Delay(1500);
        var result = Assert.Single(ResultFiles.ReadJsonl(Results));
        var expected = PeftOnnx.Hosting.Pipeline.ContentHash.Of(string.Concat(Enumerable.Range(0, 10).Select(i => $"part {i} ")));
        Assert.Equal(expected, result.ContentHash);
    }

    public void Dispose() => _temp.Dispose();
}
