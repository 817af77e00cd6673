using System.Collections.Concurrent;
using PeftOnnx.Hosting.Http;
using PeftOnnx.Hosting.Scoring;
using PeftOnnx.Runtime.Adapters;
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
    public async Task A_failing_request_fails_alone_and_its_batch_partners_are_scored()
    {
        var scorer = new HashTextScorer(HashTextScorer.DefaultLabels, TimeSpan.Zero) { FailsOn = t => t == "bad" };
        await using var batcher = new MicroBatcher(scorer, maxBatch: 2, maxWait: TimeSpan.FromSeconds(5));
        var bad = batcher.ScoreAsync(["bad"], CancellationToken.None);
        var good = batcher.ScoreAsync(["good"], CancellationToken.None);
        await Assert.ThrowsAsync<InvalidOperationException>(() => bad);
        Assert.Single(await good);
    }

    [Fact]
    public async Task Requests_with_different_adapters_share_one_call_and_each_text_keeps_its_adapter()
    {
        var scorer = new RoutedRecordingScorer();
        await using var batcher = new MicroBatcher(scorer, maxBatch: 5, maxWait: TimeSpan.FromSeconds(5));
        var acme = batcher.ScoreAsync(["a1", "a2"], "acme", CancellationToken.None);
        var fallback = batcher.ScoreAsync(["d1"], null, CancellationToken.None);
        var globex = batcher.ScoreAsync(["g1", "g2"], "globex", CancellationToken.None);
        await Task.WhenAll(acme, fallback, globex);

        var call = Assert.Single(scorer.Calls);
        Assert.Equal(["a1", "a2", "d1", "g1", "g2"], call.Texts);
        Assert.Equal("acme,acme,,globex,globex", string.Join(',', call.Adapters));
        Assert.Equal(2, (await acme).Count);
        Assert.Equal(2, (await globex).Count);
    }

    [Fact]
    public async Task A_scorer_without_adapters_refuses_a_named_adapter()
    {
        await using var batcher = new MicroBatcher(new HashTextScorer(HashTextScorer.DefaultLabels, TimeSpan.Zero), maxBatch: 4, maxWait: TimeSpan.Zero);
        // Refused before queueing (synchronously), so no batch partner is affected.
        Assert.Throws<ArgumentException>(() => { _ = batcher.ScoreAsync(["x"], "acme", CancellationToken.None); });
    }

    /// <summary>Records the texts and adapters of every call; scores like the hash scorer.</summary>
    private sealed class RoutedRecordingScorer : IRoutedTextScorer
    {
        private readonly HashTextScorer _inner = new(HashTextScorer.DefaultLabels, TimeSpan.Zero);

        public ConcurrentQueue<(string[] Texts, string?[] Adapters)> Calls { get; } = new();

        public string ModelId => "routed-hash";

        public IReadOnlyList<string>? Labels => _inner.Labels;

        public IAdapterRouter Router => throw new NotSupportedException();

        public IReadOnlyList<string> Adapters => ["acme", "globex"];

        public string? DefaultAdapter => null;

        public bool RequiresAdapter => false;

        public PreparedText Prepare(string text) => _inner.Prepare(text);

        public IReadOnlyList<TextScore> Score(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
            Score(texts, [.. texts.Select(_ => (string?)null)], cancellationToken);

        public IReadOnlyList<TextScore> Score(IReadOnlyList<PreparedText> prepared, CancellationToken cancellationToken = default) =>
            Score(prepared, [.. prepared.Select(_ => (string?)null)], cancellationToken);

        public IReadOnlyList<TextScore> Score(IReadOnlyList<string> texts, IReadOnlyList<string?> adapters, CancellationToken cancellationToken = default) =>
            Score(this.PrepareAll(texts, cancellationToken), adapters, cancellationToken);

        public IReadOnlyList<TextScore> Score(IReadOnlyList<PreparedText> prepared, IReadOnlyList<string?> adapters, CancellationToken cancellationToken = default)
        {
            Calls.Enqueue(([.. prepared.Select(p => p.Text)], [.. adapters]));
            return _inner.Score(prepared, cancellationToken);
        }
    }
}
