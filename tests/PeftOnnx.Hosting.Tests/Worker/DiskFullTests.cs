using System.Net;
using System.Net.Sockets;
using PeftOnnx.Hosting.Ledger;
using PeftOnnx.Hosting.Tests.Support;
using Xunit.Abstractions;

namespace PeftOnnx.Hosting.Tests.Worker;

/// <summary>
/// The full-disk test: the real `peftonnx serve` writes its outbox and ledger to a small tmpfs that fills up mid-run.
/// The worker must say so (log, /readyz 503, the storage metric) and wait, not die or go silent; once space is freed it
/// resumes by itself, and every document ends with exactly one result, without a restart.
/// </summary>
public sealed class DiskFullTests(ITestOutputHelper output)
{
    private const int Documents = 600;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    [SkippableFact]
    public async Task Disk_full_mid_run_then_space_freed_scores_every_document_exactly_once_without_a_restart()
    {
        using var temp = new TempFolder("diskfull");
        var inbox = temp.Combine("inbox");
        var outbox = temp.Combine("outbox");
        var ids = DocumentFolder.Generate(inbox, Documents);
        // 32 MiB is room for the whole run (the ledger's write-ahead log grows to 4 MiB before a checkpoint); the filler
        // leaves 4 MiB: enough to score some batches (each ledger commit appends several 4 KiB pages), not all 600.
        using var disk = SmallDisk.Mount(outbox, 32L * 1024 * 1024);
        disk.Fill(leaveFree: 4 * 1024 * 1024);
        var results = Path.Combine(outbox, "results.jsonl");
        var port = FreePort();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };

        using var worker = PeftOnnxProcess.Start(
            "serve", "--scorer", "hash", "--inbox", inbox, "--outbox", outbox, "--urls", $"http://127.0.0.1:{port}", "--batch-size", "16",
            "--Worker:HashScorerDelayMs=5", "--Worker:SettleMs=0", "--Worker:RescanSeconds=1");
        await Poll.UntilAsync(() => worker.Output.Contains("Storage error", StringComparison.Ordinal) || worker.HasExited, Bound,
            () => $"a storage error logged; output:\n{worker.Output}");
        Assert.False(worker.HasExited, worker.Output);
        var stalledAt = ResultFiles.CountJsonlLines(results);
        output.WriteLine($"disk full after {stalledAt} results");
        Assert.InRange(stalledAt, 1, Documents - 1);
        Assert.True(worker.Output.Contains("No space left on device", StringComparison.Ordinal) || worker.Output.Contains("disk is full", StringComparison.Ordinal),
            worker.Output);

        // While writes fail the worker is alive but not ready, says why, and counts the errors.
        var ready = await http.GetAsync(new Uri("/readyz", UriKind.Relative));
        var readyBody = await ready.Content.ReadAsStringAsync();
        output.WriteLine($"/readyz while full: {(int)ready.StatusCode} {readyBody}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("storage (inbox)", readyBody, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/healthz", UriKind.Relative))).StatusCode);
        var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains("peftonnx_storage_errors", metrics, StringComparison.Ordinal);

        disk.Free();
        var processed = Path.Combine(outbox, "processed");
        await Poll.UntilAsync(() => CountFiles(processed) == Documents || worker.HasExited, Bound,
            () => $"{Documents} processed inputs after space was freed (now {CountFiles(processed)}, {ResultFiles.CountJsonlLines(results)} results); output:\n{worker.Output}");
        await Poll.UntilAsync(() => http.GetAsync(new Uri("/readyz", UriKind.Relative)).GetAwaiter().GetResult().StatusCode == HttpStatusCode.OK, Bound,
            () => "/readyz ready again");
        output.WriteLine(string.Join('\n', worker.Output.Split('\n').Where(l => l.Contains("succeeded after", StringComparison.Ordinal)).Take(5)));
        worker.Terminate();
        await worker.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, worker.ExitCode);

        var entries = ResultFiles.ReadJsonl(results);
        output.WriteLine($"{entries.Count} result records ({ResultFiles.CountJsonlLines(results)} lines) for {Documents} documents");
        Assert.Equal(Documents, ResultFiles.CountJsonlLines(results));
        Assert.Equal(ids.Order(), entries.Select(e => e.DocId).Order());
        Assert.Empty(Directory.EnumerateFiles(inbox, "*", SearchOption.AllDirectories));
        using var ledger = SqliteLedger.Open(Path.Combine(outbox, "ledger.db"));
        var rows = ledger.All();
        Assert.Equal(Documents, rows.Count);
        Assert.All(rows, r => Assert.Equal(DocumentStatus.Done, r.Status));
    }

    private static int CountFiles(string folder) =>
        Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Count() : 0;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
