using System.Collections.Concurrent;
using PeftOnnx.Hosting.Http;
using PeftOnnx.Hosting.Scoring;
using PeftOnnx.Hosting.Tests.Support;
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
        await using var batcher = new MicroBatcher(scorer, new HttpApiOptions { MaxBatch = 8, MaxWaitMs = 30 });
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
    public async Task A_request_larger_than_the_batch_is_split_across_calls_and_answered_in_text_order()
    {
        var scorer = new RecordingScorer();
        await using var batcher = new MicroBatcher(scorer, new HttpApiOptions { MaxBatch = 4, MaxWaitMs = 5 });
        var texts = Enumerable.Range(0, 10).Select(i => $"t{i}").ToArray();
        var result = await batcher.ScoreAsync(texts, CancellationToken.None);

        var reference = new HashTextScorer(HashTextScorer.DefaultLabels, TimeSpan.Zero).Score(texts);
        Assert.Equal(reference.Select(r => r.Score), result.Select(r => r.Score));
        Assert.Equal([4, 4, 2], scorer.Calls.ToArray());
    }

    [Fact]
    public async Task A_failing_request_fails_alone_and_its_batch_partners_are_scored()
    {
        var scorer = new FailingScorer(t => t == "bad");
        await using var batcher = new MicroBatcher(scorer, new HttpApiOptions { MaxBatch = 2, MaxWaitMs = 5000 });
        var bad = batcher.ScoreAsync(["bad"], CancellationToken.None);
        var good = batcher.ScoreAsync(["good"], CancellationToken.None);
        await Assert.ThrowsAsync<InvalidOperationException>(() => bad);
        Assert.Single(await good);
    }

    [Fact]
    public async Task Requests_with_different_adapters_share_one_call_and_each_text_keeps_its_adapter()
    {
        var scorer = new RoutedRecordingScorer();
        await using var batcher = new MicroBatcher(scorer, new HttpApiOptions { MaxBatch = 5, MaxWaitMs = 5000 });
        var acme = batcher.ScoreAsync(["a1", "a2"], "acme", CancellationToken.None);
        var fallback = batcher.ScoreAsync(["d1"], null, CancellationToken.None);
        var globex = batcher.ScoreAsync(["g1", "g2"], "globex", CancellationToken.None);
        await Task.WhenAll(acme, fallback, globex);

        var call = Assert.Single(scorer.Calls);
        // Fair order takes each request's first text before any second one.
        Assert.Equal(["a1", "d1", "g1", "a2", "g2"], call.Texts);
        Assert.Equal("acme,,globex,acme,globex", string.Join(',', call.Adapters));
        var reference = new HashTextScorer(HashTextScorer.DefaultLabels, TimeSpan.Zero).Score(["a1", "a2", "g1", "g2"]);
        Assert.Equal([reference[0].Score, reference[1].Score], (await acme).Select(s => s.Score));
        Assert.Equal([reference[2].Score, reference[3].Score], (await globex).Select(s => s.Score));
    }

    [Fact]
    public async Task A_scorer_without_adapters_refuses_a_named_adapter()
    {
        await using var batcher = new MicroBatcher(new HashTextScorer(HashTextScorer.DefaultLabels, TimeSpan.Zero), new HttpApiOptions { MaxBatch = 4, MaxWaitMs = 0 });
        // Refused before queueing (synchronously), so no batch partner is affected.
        Assert.Throws<ArgumentException>(() => { _ = batcher.ScoreAsync(["x"], "acme", CancellationToken.None); });
    }

    [Fact]
    public async Task Abandoned_requests_leave_the_queue_and_are_never_scored()
    {
        using var scorer = new GatedScorer();
        await using var batcher = new MicroBatcher(scorer, new HttpApiOptions { MaxWaitMs = 0 });
        var first = batcher.ScoreAsync(["first"], CancellationToken.None);
        await scorer.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        using var gone = new CancellationTokenSource();
        var abandoned = Enumerable.Range(0, 16).Select(i => batcher.ScoreAsync([new string('x', 100 + i)], gone.Token)).ToArray();
        Assert.Equal(16, batcher.QueueDepth);

        await gone.CancelAsync();
        Assert.Equal(0, batcher.QueueDepth);
        foreach (var request in abandoned)
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        scorer.Open();
        Assert.Single(await first);
        Assert.Single(await batcher.ScoreAsync(["after"], CancellationToken.None));

        Assert.Equal([["first"], ["after"]], scorer.Calls.ToArray());
    }

    [Fact]
    public async Task A_model_call_stops_when_every_request_in_it_has_gone_and_not_before()
    {
        using (var scorer = new GatedScorer())
        await using (var batcher = new MicroBatcher(scorer, new HttpApiOptions { MaxWaitMs = 0 }))
        {
            using var gone = new CancellationTokenSource();
            var alone = batcher.ScoreAsync(["alone"], gone.Token);
            await scorer.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await gone.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => alone);
            // The gate never opens: only a cancelled call lets the next request through.
            Assert.Single(await batcher.ScoreAsync(["next"], CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20)));
            Assert.Equal(1, scorer.CancelledCalls);
        }

        using (var scorer = new GatedScorer())
        await using (var batcher = new MicroBatcher(scorer, new HttpApiOptions { MaxBatch = 2, MaxWaitMs = 5000 }))
        {
            using var gone = new CancellationTokenSource();
            var leaving = batcher.ScoreAsync(["leaving"], gone.Token);
            var staying = batcher.ScoreAsync(["staying"], CancellationToken.None);
            await scorer.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await gone.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving);
            scorer.Open();
            Assert.Equal("staying", Assert.Single(await staying).Label);
            Assert.Equal(0, scorer.CancelledCalls);
            Assert.Equal([["leaving", "staying"]], scorer.Calls.ToArray());
        }
    }

    [Fact]
    public async Task A_short_request_is_scored_before_long_requests_that_queued_ahead_of_it()
    {
        using var scorer = new GatedScorer();
        await using var batcher = new MicroBatcher(scorer, new HttpApiOptions { MaxWaitMs = 0, MaxBatchTokens = 1000, MaxTokensPerRequest = 1000 });
        var blocker = batcher.ScoreAsync(["blocker"], CancellationToken.None);
        await scorer.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // Each long request costs 900 tokens (the gated scorer counts a token per character): one per batch.
        var longs = Enumerable.Range(0, 3).Select(i => batcher.ScoreAsync([new string((char)('A' + i), 900)], CancellationToken.None)).ToArray();
        var shortOne = batcher.ScoreAsync(["short"], CancellationToken.None);
        scorer.Open();
        await Task.WhenAll([blocker, shortOne, .. longs]);

        // First in, first out would score the short request last, after 2700 tokens of other work.
        var calls = scorer.Calls.Select(call => string.Join(",", call.Select(t => t.Length > 10 ? $"{t[0]}x{t.Length}" : t))).ToArray();
        Assert.Equal(["blocker", "short,Ax900", "Bx900", "Cx900"], calls);
    }

    [Fact]
    public async Task A_long_request_is_not_starved_by_a_steady_stream_of_short_ones()
    {
        using var scorer = new GatedScorer();
        await using var batcher = new MicroBatcher(scorer, new HttpApiOptions { MaxBatch = 1, MaxWaitMs = 0, MaxTokensPerRequest = 1000 });
        var shorts = new List<Task<IReadOnlyList<TextScore>>>();
        var longScored = false;
        // Every model call brings a new 5-token request, as a busy server would see.
        scorer.OnCall = texts =>
        {
            longScored |= texts.Any(t => t.Length == 900);
            if (!longScored && shorts.Count < 1000)
                shorts.Add(batcher.ScoreAsync([$"s{shorts.Count:0000}"], CancellationToken.None));
        };
        var blocker = batcher.ScoreAsync(["blocker"], CancellationToken.None);
        await scorer.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var longOne = batcher.ScoreAsync([new string('L', 900)], CancellationToken.None);
        scorer.Open();
        await longOne.WaitAsync(TimeSpan.FromSeconds(30));

        // Tags: the blocker leaves virtual time at 7 and the long request at 907; the k-th short one is 12 + 5k. The long
        // one goes once later arrivals' tags pass its own: after 179 short requests, its 900 tokens' worth.
        var order = scorer.Calls.Select(call => call[0]).ToList();
        Assert.Equal(180, order.FindIndex(t => t.Length == 900));
        Assert.Equal(Enumerable.Range(0, 179).Select(k => $"s{k:0000}"), order.Skip(1).Take(179));
        await Task.WhenAll([blocker, .. shorts]);
    }

    [Fact]
    public async Task The_texts_of_many_requests_share_batches_by_token_budget()
    {
        using var scorer = new GatedScorer();
        await using var batcher = new MicroBatcher(scorer, new HttpApiOptions { MaxWaitMs = 0, MaxBatchTokens = 100, MaxTokensPerRequest = 120 });
        var blocker = batcher.ScoreAsync(["blocker"], CancellationToken.None);
        await scorer.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // One request of three 40-token texts and one of a 10-token text: fair order interleaves them.
        var three = batcher.ScoreAsync([new string('a', 40), new string('b', 40), new string('c', 40)], CancellationToken.None);
        var one = batcher.ScoreAsync([new string('d', 10)], CancellationToken.None);
        scorer.Open();
        await Task.WhenAll(blocker, three, one);

        Assert.Equal(["blocker", "d10,a40,b40", "c40"], scorer.Calls.Select(call => string.Join(",", call.Select(t => t.Length > 10 || t[0] == 'd' ? $"{t[0]}{t.Length}" : t))));
        Assert.Equal([new string('a', 40), new string('b', 40), new string('c', 40)], (await three).Select(s => s.Label));
    }

    [Fact]
    public async Task A_request_over_the_token_limit_is_refused_before_it_queues()
    {
        using var scorer = new GatedScorer();
        scorer.Open();
        await using var batcher = new MicroBatcher(scorer, new HttpApiOptions { MaxTokensPerRequest = 50 });
        var refused = Assert.Throws<ApiRequestException>(() => { _ = batcher.ScoreAsync([new string('a', 30), new string('b', 30)], CancellationToken.None); });
        Assert.Equal(413, refused.StatusCode);
        Assert.Equal("too_many_tokens", refused.Code);
        Assert.Contains("the limit is 50 per request", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, batcher.QueueDepth);

        Assert.Single(await batcher.ScoreAsync([new string('c', 50)], CancellationToken.None));
        Assert.Equal([[new string('c', 50)]], scorer.Calls.ToArray());
    }

    [Fact]
    public async Task A_full_queue_refuses_with_a_retry_time_and_accepts_again_once_drained()
    {
        using var scorer = new GatedScorer();
        await using var batcher = new MicroBatcher(scorer, new HttpApiOptions { MaxWaitMs = 0, MaxTokensPerRequest = 100, MaxQueuedTokens = 100 });
        var blocker = batcher.ScoreAsync(["blocker"], CancellationToken.None);
        await scorer.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var queued = batcher.ScoreAsync([new string('a', 60)], CancellationToken.None);

        var refused = Assert.Throws<ApiRequestException>(() => { _ = batcher.ScoreAsync([new string('b', 50)], CancellationToken.None); });
        Assert.Equal(429, refused.StatusCode);
        Assert.Equal("queue_full", refused.Code);
        Assert.InRange(refused.RetryAfter!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        Assert.Contains("60 tokens are waiting and this request adds 50", refused.Message, StringComparison.Ordinal);

        scorer.Open();
        await Task.WhenAll(blocker, queued);
        Assert.Single(await batcher.ScoreAsync([new string('b', 50)], CancellationToken.None));
    }

    /// <summary>
    /// Counts a token per character, records the texts of every call (its label is the text), and holds its first call
    /// until <see cref="Open"/> or its token is cancelled, so tests can queue work behind a busy model.
    /// </summary>
    private sealed class GatedScorer : ITextScorer, IDisposable
    {
        private readonly ManualResetEventSlim _gate = new();
        private int _calls;
        private int _cancelledCalls;

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ConcurrentQueue<string[]> Calls { get; } = new();

        public string ModelId => "gated";

        public IReadOnlyList<string>? Labels => null;

        /// <summary>Calls that stopped because their token was cancelled.</summary>
        public int CancelledCalls => Volatile.Read(ref _cancelledCalls);

        /// <summary>Runs on every call before the gate, on the batcher's loop thread.</summary>
        public Action<string[]>? OnCall { get; set; }

        public void Open() => _gate.Set();

        public PreparedText Prepare(string text) => new(text, [], text.Length);

        public IReadOnlyList<TextScore> Score(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
            Score(this.PrepareAll(texts, cancellationToken), cancellationToken);

        public IReadOnlyList<TextScore> Score(IReadOnlyList<PreparedText> prepared, CancellationToken cancellationToken = default)
        {
            string[] texts = [.. prepared.Select(p => p.Text)];
            Calls.Enqueue(texts);
            OnCall?.Invoke(texts);
            if (Interlocked.Increment(ref _calls) == 1)
            {
                Entered.SetResult();
                try
                {
                    if (!_gate.Wait(TimeSpan.FromSeconds(30), cancellationToken))
                        throw new TimeoutException("the test never opened the gate");
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref _cancelledCalls);
                    throw;
                }
            }
            return [.. prepared.Select(p => new TextScore(p.Text, 1, null, null, 1, p.Tokens))];
        }

        public void Dispose() => _gate.Dispose();
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
