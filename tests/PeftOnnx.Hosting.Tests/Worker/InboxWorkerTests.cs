using PeftOnnx.Hosting.Ledger;
using PeftOnnx.Hosting.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

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
    public async Task Each_scored_file_is_logged_and_a_copy_of_scored_content_is_logged_with_the_earlier_document()
    {
        Directory.CreateDirectory(_temp.Combine("inbox"));
        await using var host = await ServeHostFixture.StartAsync(Settings("Move"));
        using var logs = new LogCapture();
        host.Services.GetRequiredService<ILoggerFactory>().AddProvider(logs);
        File.WriteAllText(_temp.Combine("inbox", "first.txt"), "one text sent twice");
        await Poll.UntilAsync(() => File.Exists(_temp.Combine("outbox", "processed", "first.txt")), Bound, () => "first.txt processed");
        File.WriteAllText(_temp.Combine("inbox", "copy.txt"), "one text sent twice");
        await Poll.UntilAsync(() => File.Exists(_temp.Combine("outbox", "processed", "copy.txt")), Bound, () => "copy.txt processed");

        Assert.Contains(logs.Lines, l => l.StartsWith("Information: Scored first.txt:", StringComparison.Ordinal));
        var duplicate = Assert.Single(logs.Lines, l => l.Contains("copy.txt", StringComparison.Ordinal) && l.StartsWith("Information:", StringComparison.Ordinal));
        Assert.Contains("Not scored again copy.txt: same content as first.txt, already scored (result in ", duplicate);
        Assert.Single(ResultFiles.ReadJsonl(Results));
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
        // The result is written before its ledger row commits: wait for the commit rather than race it.
        var ledger = host.Services.GetRequiredService<SqliteLedger>();
        await Poll.UntilAsync(() => ledger.All().Count(r => r.Status == DocumentStatus.Done) == 2, Bound, () => "both versions done in the ledger");
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

    [Fact]
    public async Task A_second_input_with_the_same_name_is_kept_next_to_the_first_in_processed()
    {
        Directory.CreateDirectory(_temp.Combine("inbox"));
        await using var host = await ServeHostFixture.StartAsync(Settings("Move"));
        File.WriteAllText(_temp.Combine("inbox", "report.txt"), "the first report");
        await Poll.UntilAsync(() => File.Exists(_temp.Combine("outbox", "processed", "report.txt")), Bound, () => "the first report processed");
        File.WriteAllText(_temp.Combine("inbox", "report.txt"), "the second report, same name");
        await Poll.UntilAsync(() => File.Exists(_temp.Combine("outbox", "processed", "report.1.txt")), Bound, () => "the second report processed");

        Assert.Equal("the first report", File.ReadAllText(_temp.Combine("outbox", "processed", "report.txt")));
        Assert.Equal("the second report, same name", File.ReadAllText(_temp.Combine("outbox", "processed", "report.1.txt")));
        Assert.Equal(2, ResultFiles.ReadJsonl(Results).Count(r => r.DocId == "report.txt"));
    }

    [Fact]
    public async Task A_file_written_in_bursts_with_old_time_stamps_is_scored_once_whole()
    {
        // A copy that preserves time stamps, or a writer on a host whose clock lags, leaves the modification time far in
        // the past while the file still grows: only size and time stamp staying the same for the settle time count.
        Directory.CreateDirectory(_temp.Combine("inbox"));
        var settings = Settings("Move");
        settings["Worker:SettleMs"] = "1500";
        await using var host = await ServeHostFixture.StartAsync(settings);
        var path = _temp.Combine("inbox", "copied.txt");
        var parts = Enumerable.Range(0, 8).Select(i => $"burst {i} of a copied file. ").ToArray();
        foreach (var part in parts)
        {
            await File.AppendAllTextAsync(path, part);
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddHours(-1));
            await Task.Delay(400);
        }
        await Poll.UntilAsync(() => File.Exists(_temp.Combine("outbox", "processed", "copied.txt")), Bound, () => "the copied file processed");
        await Task.Delay(1500);
        var result = Assert.Single(ResultFiles.ReadJsonl(Results));
        Assert.Equal(PeftOnnx.Hosting.Pipeline.ContentHash.Of(string.Concat(parts)), result.ContentHash);
    }

    [Fact]
    public async Task A_symbolic_link_leading_out_of_the_inbox_is_refused_unless_links_are_followed()
    {
        var secret = _temp.Combine("elsewhere", "secret.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(secret)!);
        File.WriteAllText(secret, "a file the inbox writer should not get scored");
        Directory.CreateDirectory(_temp.Combine("inbox"));
        File.CreateSymbolicLink(_temp.Combine("inbox", "link.txt"), secret);
        // A link to a folder inside the inbox does not make a way out either.
        Directory.CreateSymbolicLink(_temp.Combine("inbox", "up"), _temp.Combine("elsewhere"));
        File.WriteAllText(_temp.Combine("inbox", "plain.txt"), "an ordinary document");

        await using (var host = await ServeHostFixture.StartAsync(Settings("Move")))
        {
            await Poll.UntilAsync(() => File.Exists(_temp.Combine("outbox", "failed", "link.txt.reason.txt"))
                && File.Exists(_temp.Combine("outbox", "processed", "plain.txt")), Bound, () => "link.txt refused and plain.txt processed");
        }
        var reason = File.ReadAllText(_temp.Combine("outbox", "failed", "link.txt.reason.txt"));
        Assert.Contains($"a symbolic link to {secret}, outside the inbox", reason, StringComparison.Ordinal);
        Assert.Contains("--follow-symlinks", reason, StringComparison.Ordinal);
        Assert.Equal(["plain.txt"], ResultFiles.ReadJsonl(Results).Select(r => r.DocId));
        // The link was moved, never its target.
        Assert.NotNull(new FileInfo(_temp.Combine("outbox", "failed", "link.txt")).LinkTarget);
        Assert.True(File.Exists(secret));

        File.CreateSymbolicLink(_temp.Combine("inbox", "trusted.txt"), secret);
        var settings = Settings("Move");
        settings["Worker:FollowSymlinks"] = "true";
        await using (var host = await ServeHostFixture.StartAsync(settings))
        {
            await Poll.UntilAsync(() => ResultFiles.ReadJsonl(Results).Any(r => r.DocId == "trusted.txt"), Bound, () => "the followed link scored");
        }
        Assert.Equal(PeftOnnx.Hosting.Pipeline.ContentHash.Of(File.ReadAllText(secret)), ResultFiles.ReadJsonl(Results).Single(r => r.DocId == "trusted.txt").ContentHash);
    }

    public void Dispose() => _temp.Dispose();
}
