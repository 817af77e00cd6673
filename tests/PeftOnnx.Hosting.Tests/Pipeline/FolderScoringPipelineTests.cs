using PeftOnnx.Hosting.Outbox;
using PeftOnnx.Hosting.Pipeline;
using PeftOnnx.Hosting.Scoring;
using PeftOnnx.Hosting.Tests.Support;
using Xunit.Abstractions;

namespace PeftOnnx.Hosting.Tests.Pipeline;

public sealed class FolderScoringPipelineTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly TempFolder _temp = new("folder");

    [Fact]
    public async Task An_interrupted_run_resumes_without_rescoring_or_duplicating()
    {
        var folder = _temp.Combine("docs");
        var ids = DocumentFolder.Generate(folder, 400);
        File.WriteAllBytes(Path.Combine(folder, "binary.bin"), [1, 0, 2]);
        var scorer = new HashTextScorer(HashTextScorer.DefaultLabels, TimeSpan.FromMilliseconds(10));
        var options = new FolderScoringOptions
        {
            Inputs = [folder],
            Output = _temp.Combine("scores.jsonl"),
            Pipeline = new PipelineOptions { BatchSize = 16, BatchWait = TimeSpan.Zero },
        };

        using var stop = new CancellationTokenSource();
        var first = await FolderScoringPipeline.RunAsync(scorer, options, s =>
        {
            if (s.Scored >= 100)
                stop.Cancel();
        }, new TestLogger(output), stop.Token).WaitAsync(Bound);
        output.WriteLine($"first run: {first.Scored} scored, interrupted {first.Interrupted}");
        Assert.True(first.Interrupted);
        Assert.InRange(first.Scored, 100, 399);

        var resumed = await FolderScoringPipeline.RunAsync(scorer, options with { Resume = true }, null, new TestLogger(output), CancellationToken.None).WaitAsync(Bound);
        output.WriteLine($"resumed: {resumed.Scored} scored, {resumed.AlreadyDone} already done, skipped {string.Join(", ", resumed.SkippedPerReason)}");
        Assert.False(resumed.Interrupted);
        Assert.Equal(401, resumed.TotalFiles);
        Assert.Equal(400, first.Scored + resumed.Scored);
        Assert.Equal(first.Scored, resumed.AlreadyDone);
        Assert.Equal(1, resumed.SkippedPerReason["binary"]);
        Assert.Equal(400, resumed.ScoredPerLabel.Values.Sum() + first.ScoredPerLabel.Values.Sum());
        var keys = JsonlResultWriter.ReadKeys(options.Output).Select(k => k.DocId).ToList();
        Assert.Equal(ids.Order(), keys.Order());

        // Without --resume the run starts afresh.
        var fresh = await FolderScoringPipeline.RunAsync(scorer, options, null, new TestLogger(output), CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(400, fresh.Scored);
        Assert.Equal(400, JsonlResultWriter.ReadKeys(options.Output).Count());
    }

    [Fact]
    public async Task Csv_output_has_a_row_per_document()
    {
        var folder = _temp.Combine("docs");
        DocumentFolder.Generate(folder, 30);
        var scorer = new HashTextScorer(["a", "b", "c"], TimeSpan.Zero);
        var options = new FolderScoringOptions { Inputs = [folder], Output = _temp.Combine("scores.csv"), Format = OutboxFormat.Csv };
        var summary = await FolderScoringPipeline.RunAsync(scorer, options, null, new TestLogger(output), CancellationToken.None).WaitAsync(Bound);
        var lines = File.ReadAllLines(options.Output);
        Assert.Equal(31, lines.Length);
        Assert.EndsWith("p_a,p_b,p_c", lines[0], StringComparison.Ordinal);
        Assert.Equal(30, summary.ScoredPerLabel.Values.Sum());
    }

    public void Dispose() => _temp.Dispose();
}
