using System.Diagnostics;
using System.Threading.Channels;
using PeftOnnx.Hosting.Metrics;
using PeftOnnx.Runtime.Adapters;
using PeftOnnx.Runtime.Scoring;

namespace PeftOnnx.Hosting.Http;

/// <summary>
/// Combines the texts of concurrent HTTP requests into model calls of up to MaxBatch texts and MaxBatchTokens tokens:
/// the first waiting text holds the batch open for at most MaxWait, then one call scores everyone's texts and each
/// request gets its results. Texts are tokenized on the requests' threads before they queue, so tokenizing overlaps
/// the model's work on earlier batches. With an adapter scorer (<see cref="IRoutedTextScorer"/>) each text keeps its
/// request's adapter and one call serves them all.
/// <para>
/// Admission: a request costing more than MaxTokensPerRequest tokens is refused (413), and one that would take the
/// queue past MaxQueuedTokens is refused with a retry time (429) instead of queueing without bound. A request whose
/// caller cancels (the client went away) leaves the queue at once and its texts are never scored; a model call whose
/// every request has gone is cancelled too.
/// </para>
/// <para>
/// Fairness: texts are served in self-clocked fair queuing order (Golestani 1994), each request a flow. A text's tag is
/// the virtual time when its request arrived (the tag of the text last taken into a batch) plus its tokens, added up
/// over the request's texts; the smallest tag goes first. A short request arriving behind long ones is scored in the
/// next batch, and a long one waits at most for about its own cost of later work, so nothing starves.
/// </para>
/// </summary>
public sealed class MicroBatcher : IAsyncDisposable
{
    private readonly ITextScorer _scorer;
    private readonly IRoutedTextScorer? _routed;
    private readonly int _maxBatch;
    private readonly int _maxBatchTokens;
    private readonly int _maxTokensPerRequest;
    private readonly int _maxQueuedTokens;
    private readonly TimeSpan _maxWait;
    private readonly HostingMetrics? _metrics;
    private readonly Lock _gate = new();
    private readonly PriorityQueue<Item, (long Tag, long Seq)> _queue = new();
    // One pending wake-up at most: the loop looks at the queue itself.
    private readonly Channel<bool> _pulse = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly Task _loop;
    private long _virtualTime;
    private long _seq;
    private int _queuedTexts;
    private long _queuedTokens;
    private double _tokensPerSecond;
    private bool _closed;

    public MicroBatcher(ITextScorer scorer, HttpApiOptions options, HostingMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _scorer = scorer;
        _routed = scorer as IRoutedTextScorer;
        _maxBatch = options.MaxBatch;
        _maxBatchTokens = options.MaxBatchTokens;
        _maxTokensPerRequest = options.MaxTokensPerRequest;
        _maxQueuedTokens = options.MaxQueuedTokens;
        _maxWait = TimeSpan.FromMilliseconds(options.MaxWaitMs);
        _metrics = metrics;
        metrics?.TrackQueueDepth(() => Volatile.Read(ref _queuedTexts));
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Texts waiting for a model call.</summary>
    public int QueueDepth => Volatile.Read(ref _queuedTexts);

    /// <summary>Scores <paramref name="texts"/> (with the default adapter, if any) as part of whatever batch is forming; result i belongs to text i.</summary>
    public Task<IReadOnlyList<TextScore>> ScoreAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken) =>
        ScoreAsync(texts, null, cancellationToken);

    /// <summary>
    /// Scores <paramref name="texts"/> with <paramref name="adapter"/> (null: the scorer's default) as part of whatever batch
    /// is forming, whatever adapters its other requests use; result i belongs to text i. Throws
    /// <see cref="ApiRequestException"/> (synchronously, before queueing) when the texts cost more tokens than one request
    /// may (413) or the queue is full (429); cancelling <paramref name="cancellationToken"/> takes the request's unscored
    /// texts out of the queue.
    /// </summary>
    public Task<IReadOnlyList<TextScore>> ScoreAsync(IReadOnlyList<string> texts, string? adapter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (adapter is not null && _routed is null)
            throw new ArgumentException($"{_scorer.ModelId} serves no adapters; score without one.", nameof(adapter));
        if (texts.Count == 0)
            return Task.FromResult<IReadOnlyList<TextScore>>([]);
        var request = new Request(Prepare(texts, cancellationToken), adapter, cancellationToken);
        Enqueue(request);
        return WaitAsync(request, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _closed = true;
            _pulse.Writer.TryComplete();
        }
        await _loop;
    }

    /// <summary>Tokenizes every text on all cores, stopping as soon as the request is over its token limit.</summary>
    private PreparedText[] Prepare(IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        var prepared = new PreparedText[texts.Count];
        long tokens = 0;
        var loop = Parallel.For(0, texts.Count, new ParallelOptions { CancellationToken = cancellationToken }, (i, state) =>
        {
            prepared[i] = _scorer.Prepare(texts[i]);
            if (Interlocked.Add(ref tokens, prepared[i].Tokens) > _maxTokensPerRequest)
                state.Stop();
        });
        if (!loop.IsCompleted)
        {
            throw new ApiRequestException(413, "too_many_tokens",
                $"the texts come to at least {Interlocked.Read(ref tokens)} tokens (all windows, [CLS] and [SEP] included); the limit is {_maxTokensPerRequest} per request (Http:MaxTokensPerRequest). Send fewer or shorter texts.");
        }
        return prepared;
    }

    private void Enqueue(Request request)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            var cost = request.Texts.Sum(t => (long)Cost(t));
            if (_queuedTokens + cost > _maxQueuedTokens)
            {
                var retry = RetryAfterLocked();
                throw new ApiRequestException(429, "queue_full",
                    $"{_queuedTokens} tokens are waiting and this request adds {cost}; the queue holds {_maxQueuedTokens} (Http:MaxQueuedTokens). Retry after {retry.TotalSeconds:F0} s.",
                    retry);
            }
            var tag = _virtualTime;
            for (var i = 0; i < request.Texts.Length; i++)
            {
                tag += Cost(request.Texts[i]);
                _queue.Enqueue(new Item(request, i), (tag, _seq++));
            }
            request.QueuedTexts = request.Texts.Length;
            request.QueuedTokens = cost;
            _queuedTexts += request.Texts.Length;
            _queuedTokens += cost;
            _pulse.Writer.TryWrite(true);
        }
    }

    private async Task<IReadOnlyList<TextScore>> WaitAsync(Request request, CancellationToken cancellationToken)
    {
        using var abandon = cancellationToken.Register(() => Abandon(request, cancellationToken));
        return await request.Result.Task.ConfigureAwait(false);
    }

    /// <summary>Takes the request's unscored texts out of the queue (they are skipped when reached) and ends its wait.</summary>
    private void Abandon(Request request, CancellationToken token)
    {
        lock (_gate)
            Release(request);
        request.Result.TrySetCanceled(token);
    }

    private void Fail(Request request, Exception error)
    {
        lock (_gate)
            Release(request);
        request.Result.TrySetException(error);
    }

    private void Release(Request request)
    {
        request.Dropped = true;
        _queuedTexts -= request.QueuedTexts;
        _queuedTokens -= request.QueuedTokens;
        request.QueuedTexts = 0;
        request.QueuedTokens = 0;
    }

    private async Task RunAsync()
    {
        while (true)
        {
            var batch = TakeBatch();
            if (batch.Count > 0)
            {
                Score(batch);
                continue;
            }
            if (!await _pulse.Reader.WaitToReadAsync().ConfigureAwait(false))
                break;
            _pulse.Reader.TryRead(out _);
            await HoldOpenAsync().ConfigureAwait(false);
        }
        // Closed: what was queued before is still scored.
        for (var batch = TakeBatch(); batch.Count > 0; batch = TakeBatch())
            Score(batch);
    }

    /// <summary>Waits up to MaxWait for more texts, unless a full batch is already waiting.</summary>
    private async Task HoldOpenAsync()
    {
        if (_maxWait == TimeSpan.Zero)
            return;
        using var wait = new CancellationTokenSource(_maxWait);
        try
        {
            while (!BatchFull())
            {
                if (!await _pulse.Reader.WaitToReadAsync(wait.Token).ConfigureAwait(false))
                    return;
                _pulse.Reader.TryRead(out _);
            }
        }
        catch (OperationCanceledException) when (wait.IsCancellationRequested)
        {
        }
    }

    private bool BatchFull()
    {
        lock (_gate)
            return _queuedTexts >= _maxBatch || _queuedTokens >= _maxBatchTokens;
    }

    /// <summary>The smallest-tag texts that fit MaxBatch and MaxBatchTokens (a text bigger than the budget goes alone).</summary>
    private List<Item> TakeBatch()
    {
        var batch = new List<Item>();
        var tokens = 0L;
        lock (_gate)
        {
            while (batch.Count < _maxBatch && _queue.TryPeek(out var item, out var priority))
            {
                if (item.Request.Dropped)
                {
                    _queue.Dequeue();
                    continue;
                }
                var cost = Cost(item.Prepared);
                if (batch.Count > 0 && tokens + cost > _maxBatchTokens)
                    break;
                _queue.Dequeue();
                _virtualTime = priority.Tag;
                tokens += cost;
                batch.Add(item);
                item.Request.QueuedTexts--;
                item.Request.QueuedTokens -= cost;
                _queuedTexts--;
                _queuedTokens -= cost;
            }
        }
        return batch;
    }

    private void Score(List<Item> batch)
    {
        _metrics?.RecordBatch("http", batch.Count);
        var requests = batch.Select(i => i.Request).Distinct().ToArray();
        // The model call stops (between model batches) once every request in it has gone: nobody waits for the answer.
        using var allGone = new CancellationTokenSource();
        var waiting = requests.Length;
        var registrations = requests.Select(r => r.Cancellation.Register(() =>
        {
            if (Interlocked.Decrement(ref waiting) == 0)
                allGone.Cancel();
        })).ToArray();
        try
        {
            var started = Stopwatch.GetTimestamp();
            Complete(batch, Run(batch, allGone.Token));
            UpdateThroughput(batch.Sum(i => (long)Cost(i.Prepared)), Stopwatch.GetElapsedTime(started));
        }
        catch (OperationCanceledException) when (allGone.IsCancellationRequested)
        {
        }
        catch (Exception) when (requests.Length > 1)
        {
            // One request's failure (a text the model rejects, its adapter removed meanwhile) must not fail its partners.
            foreach (var group in batch.GroupBy(i => i.Request))
                ScoreAlone([.. group]);
        }
        catch (Exception e)
        {
            Fail(requests[0], e);
        }
        finally
        {
            foreach (var registration in registrations)
                registration.Dispose();
        }
    }

    private void ScoreAlone(List<Item> items)
    {
        var request = items[0].Request;
        try
        {
            Complete(items, Run(items, request.Cancellation));
        }
        catch (OperationCanceledException) when (request.Cancellation.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            Fail(request, e);
        }
    }

    /// <summary>One scorer call for <paramref name="items"/>, each text with its request's adapter.</summary>
    private IReadOnlyList<TextScore> Run(List<Item> items, CancellationToken cancellationToken)
    {
        var prepared = items.Select(i => i.Prepared).ToArray();
        if (_routed is null)
            return _scorer.Score(prepared, cancellationToken);
        return _routed.Score(prepared, items.Select(i => i.Request.Adapter).ToArray(), cancellationToken);
    }

    /// <summary>Hands each text its score; a request is answered when its last text is scored. Only the loop calls this.</summary>
    private static void Complete(List<Item> items, IReadOnlyList<TextScore> scores)
    {
        for (var i = 0; i < items.Count; i++)
        {
            var request = items[i].Request;
            request.Scores[items[i].Index] = scores[i];
            if (--request.Unscored == 0)
                request.Result.TrySetResult(request.Scores);
        }
    }

    private void UpdateThroughput(long tokens, TimeSpan elapsed)
    {
        if (elapsed <= TimeSpan.Zero)
            return;
        var rate = tokens / elapsed.TotalSeconds;
        lock (_gate)
            _tokensPerSecond = _tokensPerSecond == 0 ? rate : 0.7 * _tokensPerSecond + 0.3 * rate;
    }

    /// <summary>How long the queued tokens take at the measured rate, 1 to 60 s (1 s before anything was measured).</summary>
    private TimeSpan RetryAfterLocked() =>
        TimeSpan.FromSeconds(_tokensPerSecond > 0 ? Math.Clamp(Math.Ceiling(_queuedTokens / _tokensPerSecond), 1, 60) : 1);

    private static int Cost(PreparedText text) => Math.Max(1, text.Tokens);

    private sealed class Request(PreparedText[] texts, string? adapter, CancellationToken cancellation)
    {
        public PreparedText[] Texts { get; } = texts;
        public string? Adapter { get; } = adapter;
        /// <summary>The caller's token: cancelled when the client goes away.</summary>
        public CancellationToken Cancellation { get; } = cancellation;
        public TaskCompletionSource<IReadOnlyList<TextScore>> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TextScore[] Scores { get; } = new TextScore[texts.Length];
        public int Unscored { get; set; } = texts.Length;
        // Guarded by the batcher's lock.
        public int QueuedTexts { get; set; }
        public long QueuedTokens { get; set; }
        public bool Dropped { get; set; }
    }

    private sealed record Item(Request Request, int Index)
    {
        public PreparedText Prepared => Request.Texts[Index];
    }
}
