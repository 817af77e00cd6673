using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace PeftOnnx.Cli.Tests.Commands;

/// <summary>
/// `eval --report`: a self-contained HTML page and a PNG, with data-borne text escaped, and (with Debian's chromium
/// installed) a page that headless Chromium renders with the metrics in its DOM.
/// </summary>
public sealed class EvalReportTests(MiniLmDir minilm, ITestOutputHelper output) : IClassFixture<MiniLmDir>, IDisposable
{
    private const string Hostile = "<script>alert('x')</script>";
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G'];
    private readonly TempFolder _folder = new();

    /// <summary>Zero-shot over games/sound; the first document is about sound but labelled games, so it is a confused example.</summary>
    private string Data() => _folder.File("hostile.jsonl", string.Join('\n',
        Row("<i>mixer</i>", "games", $"Sound mixer and audio effects for ALSA sound cards {Hostile}"),
        Row("shooter", "sound", "A 3D first-person shooter game with multiplayer deathmatch levels"),
        Row("chess", "games", "A chess game with a graphical board and computer opponent"),
        Row("player", "sound", "An MP3 audio player with a music library and playlists")) + "\n");

    private static string Row(string id, string label, string text) => JsonSerializer.Serialize(new { id, label, text });

    private async Task<(string Html, JsonElement Metrics)> Report()
    {
        var html = _folder.Combine("report.html");
        var run = await CliRun.Of("eval", "--model", minilm.Path, "--data", Data(), "--json", "--report", html, "--device", "cpu");
        Assert.True(run.ExitCode == 0, run.ToString());
        return (html, JsonDocument.Parse(run.Out).RootElement.GetProperty("metrics").Clone());
    }

    [Fact]
    public async Task Report_is_self_contained_escaped_and_has_a_png_beside_it()
    {
        var (path, metrics) = await Report();
        var html = File.ReadAllText(path);
        Assert.DoesNotContain(Hostile, html);
        Assert.DoesNotContain("<i>mixer</i>", html);
        Assert.Contains("&lt;script&gt;", html);
        Assert.Contains("&lt;i&gt;mixer&lt;/i&gt;", html);
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        Assert.Contains("data:image/png;base64,", html);
        Assert.Contains(Accuracy(metrics), html);
        var png = File.ReadAllBytes(Path.ChangeExtension(path, ".png"));
        Assert.Equal(PngSignature, png[..4]);
        Assert.True(png.Length > 10_000, $"{png.Length} bytes");
        Assert.Empty(Directory.GetFiles(_folder.Path, "*.tmp"));
    }

    [Fact]
    public async Task Report_folder_that_does_not_exist_is_refused_before_scoring()
    {
        var run = await CliRun.Of("eval", "--model", minilm.Path, "--data", Data(), "--report", _folder.Combine("missing", "report.html"));
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("does not exist", run.Error);
    }

    [SkippableFact]
    public async Task Headless_chromium_renders_the_report_with_its_numbers_in_the_dom()
    {
        var chromium = RequiredTool.Find("sudo apt-get update && sudo apt-get install -y chromium", "report rendering test", "chromium", "chromium-browser");

        var (path, metrics) = await Report();
        var url = new Uri(path).AbsoluteUri;
        var screenshot = _folder.Combine("screenshot.png");
        await Chromium(chromium, $"--screenshot={screenshot}", "--window-size=1200,2400", url);
        var shot = File.ReadAllBytes(screenshot);
        output.WriteLine($"screenshot: {shot.Length} bytes");
        Assert.Equal(PngSignature, shot[..4]);
        Assert.True(shot.Length > 20_000, $"a rendered page is more than a blank screen; got {shot.Length} bytes");

        var dom = await Chromium(chromium, "--dump-dom", url);
        Assert.Contains("<table id=\"confusion\">", dom);
        Assert.Contains(Accuracy(metrics), dom);
        var confusion = metrics.GetProperty("confusion").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetInt32()).ToArray()).ToArray();
        foreach (var count in confusion.SelectMany(r => r))
            Assert.Contains($">{count.ToString(CultureInfo.InvariantCulture)}</td>", dom);
        Assert.Contains("&lt;script&gt;", dom);
        Assert.DoesNotContain(Hostile, dom);
    }

    private static string Accuracy(JsonElement metrics) => metrics.GetProperty("accuracy").GetDouble().ToString("P2", CultureInfo.InvariantCulture);

    private async Task<string> Chromium(string binary, params string[] args)
    {
        var info = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "--headless", "--no-sandbox", "--disable-gpu", $"--user-data-dir={_folder.Combine("chromium-profile")}" }.Concat(args))
            info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"chromium exited {process.ExitCode}: {await stderr}");
        return await stdout;
    }

    public void Dispose() => _folder.Dispose();
}
