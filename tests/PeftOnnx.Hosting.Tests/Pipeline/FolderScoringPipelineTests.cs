using PeftOnnx.Hosting.Outbox;
using PeftOnnx.Hosting.Pipeline;
using PeftOnnx.Hosting.Scoring;
using PeftOnnx.Hosting.Tests.Support;
using PeftOnnx.Runtime.Adapters;
using PeftOnnx.Runtime.Documents;
using PeftOnnx.Runtime.Scoring;
using Xunit.Abstractions;

namespace PeftOnnx.Hosting.Tests.Pipeline;

public sealed class FolderScoringPipelineTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly TempFolder _temp = new("folder");

    /// <summary>One `peftonnx score` run: a results file (fresh or resumed) as the sink, committed when the run ends.</summary>
    private async Task<FolderScoringSummary> ScoreAsync(
        ITextScorer scorer, string folder, string results, bool resume, OutboxFormat format = OutboxFormat.Jsonl,
        Action<FolderScoringSummary>? progress = null, CancellationToken cancellationToken = default)
    {
        using var file = ResultFile.Open(results, format, scorer.Labels, resume);
        var options = new FolderScoringOptions
        {
            Inputs = [folder],
            AlreadyWritten = file.Written,
            Pipeline = FolderScoringOptions.DefaultPipeline with { BatchSize = 16 },
        };
        var summary = await FolderScoringPipeline.RunAsync(scorer, options, file.Writer, progress, new TestLogger(output), cancellationToken).WaitAsync(Bound, CancellationToken.None);
        file.Commit();
        return summary;
    }

    [Fact]
    public async Task An_interrupted_run_resumes_without_rescoring_or_duplicating()
    {
        var folder = _temp.Combine("docs");
        var ids = DocumentFolder.Generate(folder, 400);
        File.WriteAllBytes(Path.Combine(folder, "binary.bin"), [1, 0, 2]);
        var scorer = new HashTextScorer(HashTextScorer.DefaultLabels, TimeSpan.FromMilliseconds(10));
        var results = _temp.Combine("scores.jsonl");

        using var stop = new CancellationTokenSource();
        var first = await ScoreAsync(scorer, folder, results, resume: false, progress: s =>
        {
            if (s.Scored >= 100)
                stop.Cancel();
        }, cancellationToken: stop.Token);
        output.WriteLine($"first run: {first.Scored} scored, interrupted {first.Interrupted}");
        Assert.True(first.Interrupted);
        Assert.InRange(first.Scored, 100, 399);

        var resumed = await ScoreAsync(scorer, folder, results, resume: true);
        output.WriteLine($"resumed: {resumed.Scored} scored, {resumed.AlreadyDone} already done, skipped {string.Join(", ", resumed.SkippedPerReason)}");
        Assert.False(resumed.Interrupted);
        Assert.Equal(401, resumed.TotalFiles);
        Assert.Equal(400, first.Scored + resumed.Scored);
        Assert.Equal(first.Scored + first.Skipped, resumed.AlreadyDone);
        Assert.Equal(1, first.Skipped + resumed.Skipped);
        Assert.Equal(400, resumed.ScoredPerLabel.Values.Sum() + first.ScoredPerLabel.Values.Sum());
        var keys = JsonlResultWriter.ReadKeys(results).Select(k => k.DocId).ToList();
        Assert.Equal([.. ids, "binary.bin"], keys.Order(StringComparer.Ordinal), StringComparer.Ordinal);

        // Without --resume the output is replaced: the same 401 records, none twice.
        var fresh = await ScoreAsync(scorer, folder, results, resume: false);
        Assert.Equal(400, fresh.Scored);
        Assert.Equal(401, JsonlResultWriter.ReadKeys(results).Count());
        Assert.Equal([Path.GetFileName(results)], Directory.GetFiles(_temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_finished_run_resumed_writes_nothing_again()
    {
        var folder = _temp.Combine("docs");
        DocumentFolder.Generate(folder, 10);
        File.WriteAllText(Path.Combine(folder, "empty.txt"), "");
        var scorer = new HashTextScorer(HashTextScorer.DefaultLabels, TimeSpan.Zero);
        var results = _temp.Combine("scores.jsonl");

        await ScoreAsync(scorer, folder, results, resume: false);
        var before = File.ReadAllLines(results);
        var resumed = await ScoreAsync(scorer, folder, results, resume: true);

        Assert.Equal(11, before.Length);
        Assert.Equal(before, File.ReadAllLines(results));
        Assert.Equal(0, resumed.Scored);
        Assert.Equal(11, resumed.AlreadyDone);
    }

    [Fact]
    public async Task Records_keep_input_order_and_say_why_a_document_was_skipped()
    {
        var folder = _temp.Combine("docs");
        DocumentFolder.Generate(folder, 40);
        File.WriteAllBytes(Path.Combine(folder, "binary.bin"), [1, 0, 2]);
        var scorer = new HashTextScorer(HashTextScorer.DefaultLabels, TimeSpan.Zero);
        var results = _temp.Combine("scores.jsonl");

        await ScoreAsync(scorer, folder, results, resume: false);

        var records = File.ReadAllLines(results).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(DocumentWalker.Walk([folder]).Select(p => Path.GetRelativePath(folder, p)), records.Select(r => r.GetProperty("doc_id").GetString()));
        var binary = Assert.Single(records, r => r.GetProperty("status").GetString() != "scored");
        Assert.Equal("skipped", binary.GetProperty("status").GetString());
        Assert.StartsWith("binary", binary.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.False(binary.TryGetProperty("label", out _));
    }

    [Fact]
    public async Task Csv_output_has_a_row_per_document_and_nothing_beside_it()
    {
        var folder = _temp.Combine("docs");
        DocumentFolder.Generate(folder, 30);
        File.WriteAllText(Path.Combine(folder, "empty.txt"), "");
        var scorer = new HashTextScorer(["a", "b", "c"], TimeSpan.Zero);
        var results = _temp.Combine("scores.csv");

        var summary = await ScoreAsync(scorer, folder, results, resume: false, OutboxFormat.Csv);
        await ScoreAsync(scorer, folder, results, resume: true, OutboxFormat.Csv);

        var lines = File.ReadAllLines(results);
        Assert.Equal(32, lines.Length);
        Assert.Equal("doc_id,content_hash,path,model_id,status,reason,label,score,labels,chunks,tokens,scored_at,p_a,p_b,p_c", lines[0]);
        Assert.Single(lines, l => l.Contains(",skipped,empty file,", StringComparison.Ordinal));
        Assert.Equal(30, lines.Count(l => l.Contains(",scored,", StringComparison.Ordinal)));
        Assert.Equal(30, summary.ScoredPerLabel.Values.Sum());
        Assert.Equal(["scores.csv"], Directory.GetFiles(_temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task The_same_text_routed_to_two_adapters_is_two_claims_and_two_records()
    {
        var folder = _temp.Combine("docs");
        _temp.File("docs/acme/a.txt", "the same text");
        _temp.File("docs/beta/a.txt", "the same text");
        _temp.File("docs/b.txt", "the same text");
        var scorer = new RoutedHashScorer(new FolderAdapterRouter([folder], name => name is "acme" or "beta"), ["acme", "beta"]);
        var results = _temp.Combine("scores.jsonl");

        var first = await ScoreAsync(scorer, folder, results, resume: false);
        var resumed = await ScoreAsync(scorer, folder, results, resume: true);

        Assert.Equal(3, first.Scored);
        Assert.Equal(0, resumed.Scored);
        Assert.Equal([null, "acme", "beta"], scorer.AdaptersUsed.Order(StringComparer.Ordinal));
        var models = File.ReadAllLines(results).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement)
            .ToDictionary(r => r.GetProperty("doc_id").GetString()!, r => r.GetProperty("model_id").GetString());
        Assert.Equal(new Dictionary<string, string?> { ["acme/a.txt"] = "hash+routed/acme", ["b.txt"] = "hash+routed", ["beta/a.txt"] = "hash+routed/beta" }, models);
    }

    public void Dispose() => _temp.Dispose();
}
