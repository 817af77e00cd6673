using PeftOnnx.Tests;

namespace PeftOnnx.Cli.Tests.Commands;

public sealed class DemoAndBenchCommandTests(MiniLmDir minilm) : IClassFixture<MiniLmDir>
{
    [Fact]
    public async Task Demo_scores_the_shipped_samples_and_shows_the_skipped_ones()
    {
        var run = await CliRun.Of("demo", "--samples", Path.Combine(TestPaths.RepoRoot, "samples"), "--device", "cpu", "--zero-shot");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("minilm-l6@4a64cee3d413", run.Out);
        Assert.Contains(run.Lines, l => l.Contains("empty-notes.txt", StringComparison.Ordinal) && l.Contains("empty file", StringComparison.Ordinal));
        Assert.Contains(run.Lines, l => l.Contains("screenshot.png", StringComparison.Ordinal) && l.Contains("binary", StringComparison.Ordinal));
        Assert.Contains(run.Lines, l => l.Contains("reports/dvgrab.json", StringComparison.Ordinal) && l.Contains("video", StringComparison.Ordinal));
        Assert.True(Directory.Exists(minilm.Path));
    }

    [Fact]
    public async Task Demo_with_a_missing_samples_folder_says_so()
    {
        var run = await CliRun.Of("demo", "--samples", "/nonexistent/samples");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("Sample folder /nonexistent/samples does not exist", run.Error);
    }

    [Fact]
    public async Task Loadgen_refuses_missing_or_bad_benchmark_texts_before_sending_anything()
    {
        using var temp = new TempFolder();
        var missing = await CliRun.Of("loadgen", "--url", "http://127.0.0.1:9", "--data", temp.Combine("none.jsonl"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains($"{temp.Combine("none.jsonl")} does not exist", missing.Error);

        var bad = temp.File("bad.jsonl", "{\"text\": \"fine\"}\n{\"title\": \"no text\"}\n");
        var run = await CliRun.Of("loadgen", "--url", "http://127.0.0.1:9", "--data", bad);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"{bad}#L2", run.Error);
    }

    [Fact]
    public async Task Bench_prints_ours_and_the_baseline_per_batch_size()
    {
        var run = await CliRun.Of("bench", "--model", minilm.Path, "--batch-sizes", "1", "2", "--sequence", "16", "--iterations", "1", "--rounds", "1", "--warmup", "0", "--device", "cpu");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("onnx runtime: 1.31", run.Out);
        Assert.Contains("cpu: ", run.Out);
        Assert.Equal(2, run.Lines.Count(l => l.Contains("peftonnx", StringComparison.Ordinal) && l.Contains(" 16 ", StringComparison.Ordinal)));
        Assert.Equal(2, run.Lines.Count(l => l.Contains("ort default", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("--sequence", "1000", "--sequence must be in [3, 256]")]
    [InlineData("--batch-sizes", "0", "--batch-sizes must be positive")]
    [InlineData("--iterations", "0", "--iterations and --rounds must be at least 1")]
    public async Task Bench_rejects_bad_settings(string option, string value, string message)
    {
        var run = await CliRun.Of("bench", "--model", minilm.Path, option, value);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains(message, run.Error);
    }
}
