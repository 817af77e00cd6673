using System.Collections.Concurrent;
using PeftOnnx.Hosting.Http;
using PeftOnnx.Hosting.Scoring;
using PeftOnnx.Runtime.Scoring;

namespace PeftOnnx.Hosting.Tests.Http;

public sealed class MicroBatcherTests
{
    /// <summary>Records the size of every call and answers like the hash scorer.</summary>
    private sealed class RecordingScorer : ITextScorer
    {
        private readonly HashTextScorer _inner = new(HashTextScorer.DefaultLabels, TimeSpan.FromMilliseconds(20));

        public ConcurrentQueue<int> Calls { get; } = new();

        public string ModelId => _inner.ModelId;

        public IReadOnlyList<string>? Labels => _inner.Labels;

        public PreparedText Prepare(string text) => _inner.Prepare(text);

        public IReadOnlyList<TextScore> Score(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
            Score(this.PrepareAll(texts, cancellationToken), cancellationToken);

        public IReadOnlyList<TextScore> Score(IReadOnlyList<PreparedText> prepared, CancellationToken cancellationToken = default)
        {
            Calls.Enqueue(prepared.Count);
            return _inner.Score(prepared, cancellationToken);
        }
    }

    [Fact]
    public async Task Concurrent_requests_share_model_calls_and_each_gets_its_own_results()
    {
        var scorer = new RecordingScorer();
        await using var batcher = new MicroBatcher(scorer, maxBatch: 8, maxWait: TimeSpan.FromMilliseconds(30));
        var texts = Enumerable.Range(0, 32).Select(i => $"request {i}").ToArray();
        var answers = await Task.WhenAll(texts.Select(t => Task.Run(() => batcher.ScoreAsync([t], CancellationToken.None))));

        var reference = new HashTextScorer(HashTextScorer.DefaultLabels, TimeSpan.Zero).Score(texts);
        for (var i = 0; i < texts.Length; i++)
            Assert.Equal(reference[i], Assert.Single(answers[i]), (a, b) => a.Label == b.Label && a.Score == b.Score);
        Assert.Equal(32, scorer.Calls.Sum());
        Assert.All(scorer.Calls, size => Assert.InRange(size, 1, 8));
        Assert.True(scorer.Calls.Count < 32, $"expected shared calls, got {scorer.Calls.Count} calls for 32 requests");
    }

    [Fact]
    public async Task A_request_larger_than_the_batch_is_scored_whole_and_never_split()
    {
        var scorer = new RecordingScorer();
        await using var batcher = new MicroBatcher(scorer, maxBatch: 4, maxWait: TimeSpan.FromMilliseconds(5));
        var result = await batcher.ScoreAsync(Enumerable.Range(0, 10).Select(i => $"t{i}").ToArray(), CancellationToken.None);
        Assert.Equal(10, result.Count);
        Assert.Contains(10, scorer.Calls);
    }

    [Fact]
    public async Task A_failing_model_call_fails_every_request_in_the_batch()
    {
        var scorer = new HashTextScorer(HashTextScorer.DefaultLabels, TimeSpan.Zero) { FailsOn = t => t == "bad" };
        await using var batcher = new MicroBatcher(scorer, maxBatch: 8, maxWait: TimeSpan.FromMilliseconds(50));
        var bad = batcher.ScoreAsync(["bad"], CancellationToken.None);
        await Assert.ThrowsAsync<InvalidOperationException>(() => bad);
        Assert.Single(await batcher.ScoreAsync(["good"], CancellationToken.None));
    }
}
