using PeftOnnx.Hosting.Ledger;
using PeftOnnx.Hosting.Tests.Support;
using Xunit.Abstractions;

namespace PeftOnnx.Hosting.Tests.Worker;

/// <summary>
/// The crash test: the real `peftonnx serve` process is killed with SIGKILL in the middle of a 2,000-document inbox
/// and started again; afterwards every document has exactly one result and the ledger agrees.
/// </summary>
public sealed class InboxCrashTests(ITestOutputHelper output)
{
    private const int Documents = 2000;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Kill9_mid_run_then_restart_gives_exactly_one_result_per_document()
    {
        using var temp = new TempFolder("crash");
        var inbox = temp.Combine("inbox");
        var outbox = temp.Combine("outbox");
        var ids = DocumentFolder.Generate(inbox, Documents);
        var results = Path.Combine(outbox, "results.jsonl");
        string[] args =
        [
            "serve", "--scorer", "hash", "--inbox", inbox, "--outbox", outbox, "--urls", "none", "--batch-size", "16",
            "--Worker:HashScorerDelayMs=15", "--Worker:SettleMs=0", "--Worker:RescanSeconds=2",
        ];

        int killedAt;
        using (var first = PeftOnnxProcess.Start(args))
        {
            await Poll.UntilAsync(() => ResultFiles.CountJsonlLines(results) >= 400 || first.HasExited, Bound,
                () => $"400 results before the kill; output:\n{first.Output}");
            Assert.False(first.HasExited, $"the worker exited early:\n{first.Output}");
            first.KillHard();
            killedAt = ResultFiles.CountJsonlLines(results);
        }
        output.WriteLine($"killed with SIGKILL after {killedAt} results");
        Assert.InRange(killedAt, 400, Documents - 1);

        using (var second = PeftOnnxProcess.Start(args))
        {
            var processed = Path.Combine(outbox, "processed");
            await Poll.UntilAsync(() => CountFiles(processed) == Documents || second.HasExited, Bound,
                () => $"{Documents} processed inputs (now {CountFiles(processed)}); output:\n{second.Output}");
            second.Terminate();
            await second.WaitForExitAsync(TimeSpan.FromSeconds(30));
            output.WriteLine(string.Join('\n', second.Output.Split('\n').Where(l => l.Contains("recovery", StringComparison.OrdinalIgnoreCase) || l.Contains("stopped", StringComparison.Ordinal))));
            Assert.Equal(0, second.ExitCode);
        }

        var entries = ResultFiles.ReadJsonl(results);
        output.WriteLine($"{entries.Count} result records for {Documents} documents");
        Assert.Equal(Documents, ResultFiles.CountJsonlLines(results));
        Assert.Equal(Documents, entries.Count);
        Assert.Equal(ids.Order(), entries.Select(e => e.DocId).Order());
        Assert.All(entries, e => Assert.Equal(Path.Combine(inbox, e.DocId), e.Path));
        Assert.Empty(Directory.EnumerateFiles(inbox, "*", SearchOption.AllDirectories));

        using var ledger = SqliteLedger.Open(Path.Combine(outbox, "ledger.db"));
        var rows = ledger.All();
        Assert.Equal(Documents, rows.Count);
        Assert.All(rows, r => Assert.Equal(DocumentStatus.Done, r.Status));
        Assert.Equal(entries.Select(e => (e.DocId, e.ContentHash)).Order(), rows.Select(r => (r.DocId, r.ContentHash!)).Order());
        Assert.All(rows, r => Assert.Equal(results, r.ResultPath));
        output.WriteLine($"ledger: {rows.Count} done, {rows.Count(r => r.Attempts > 1)} scored more than once (interrupted batches)");
    }

    private static int CountFiles(string folder) =>
        Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Count() : 0;
}
