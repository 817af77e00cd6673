using System.Threading.Channels;
using PeftOnnx.Hosting.Metrics;
using PeftOnnx.Runtime.Adapters;
using PeftOnnx.Runtime.Scoring;

namespace PeftOnnx.Hosting.Http;

/// <summary>
/// Combines the texts of concurrent HTTP requests into model calls of up to MaxBatch texts: the first waiting text
/// holds the batch open for at most MaxWait, then one call scores everyone's texts and each request gets its slice.
/// One loop calls the scorer, so a burst of requests costs a few large calls instead of many small ones. Texts are
/// tokenized on the requests' threads before they queue, so tokenizing overlaps the model's work on earlier batches.
/// With an adapter scorer (<see cref="IRoutedTextScorer"/>) each request brings its adapter and one call serves them all.
/// </summary>
public sealed class MicroBatcher : IAsyncDisposable
{
    private readonly ITextScorer _scorer;
    private readonly IRoutedTextScorer? _routed;
    private readonly int _maxBatch;
    private readonly TimeSpan _maxWait;
    private readonly HostingMetrics? _metrics;
    private readonly Channel<Request> _requests = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private int _waitingTexts;

    public MicroBatcher(ITextScorer scorer, int maxBatch, TimeSpan maxWait, HostingMetrics? metrics = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        _scorer = scorer;
        _routed = scorer as IRoutedTextScorer;
        _maxBatch = maxBatch;
        _maxWait = maxWait;
        _metrics = metrics;
        metrics?.TrackQueueDepth(() => Volatile.Read(ref _waitingTexts));
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Texts waiting for a model call.</summary>
    public int QueueDepth => Volatile.Read(ref _waitingTexts);

    /// <summary>Scores <paramref name="texts"/> (with the default adapter, if any) as part of whatever batch is forming; result i belongs to text i.</summary>
    public Task<IReadOnlyList<TextScore>> ScoreAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken) =>
        ScoreAsync(texts, null, cancellationToken);

    /// <summary>
    /// Scores <paramref name="texts"/> with <paramref name="adapter"/> (null: the scorer's default) as part of whatever batch
    /// is forming, whatever adapters its other requests use; result i belongs to text i.
    /// </summary>
    public Task<IReadOnlyList<TextScore>> ScoreAsync(IReadOnlyList<string> texts, string? adapter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (adapter is not null && _routed is null)
            throw new ArgumentException($"{_scorer.ModelId} serves no adapters; score without one.", nameof(adapter));
        var prepared = _scorer.PrepareAll(texts, cancellationToken);
        var request = new Request(prepared, adapter, new TaskCompletionSource<IReadOnlyList<TextScore>>(TaskCreationOptions.RunContinuationsAsynchronously));
        Interlocked.Add(ref _waitingTexts, texts.Count);
        if (!_requests.Writer.TryWrite(request))
        {
            Interlocked.Add(ref _waitingTexts, -texts.Count);
            throw new ObjectDisposedException(nameof(MicroBatcher), "the server is shutting down");
        }
        return request.Result.Task.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _requests.Writer.TryComplete();
        await _loop;
    }

    private async Task RunAsync()
    {
        var reader = _requests.Reader;
        Request? carried = null;
        while (carried is not null || await reader.WaitToReadAsync())
        {
            var batch = new List<Request>();
            var texts = 0;
            if (carried is not null)
            {
                batch.Add(carried);
                texts = carried.Texts.Count;
                carried = null;
            }
            using (var wait = new CancellationTokenSource(_maxWait))
            {
                try
                {
                    while (texts < _maxBatch)
                    {
                        if (!reader.TryRead(out var next))
                        {
                            if (batch.Count > 0 && _maxWait == TimeSpan.Zero)
                                break;
                            if (!await reader.WaitToReadAsync(batch.Count == 0 ? CancellationToken.None : wait.Token))
                                break;
                            continue;
                        }
                        // A request never splits: one that does not fit opens the next batch (unless the batch is empty).
                        if (batch.Count > 0 && texts + next.Texts.Count > _maxBatch)
                        {
                            carried = next;
                            break;
                        }
                        batch.Add(next);
                        texts += next.Texts.Count;
                    }
                }
                catch (OperationCanceledException) when (wait.IsCancellationRequested)
                {
                }
            }
            if (batch.Count > 0)
                Score(batch, texts);
        }
    }

    private void Score(List<Request> batch, int texts)
    {
        Interlocked.Add(ref _waitingTexts, -texts);
        _metrics?.RecordBatch("http", texts);
        try
        {
            Complete(batch, Run(batch));
        }
        catch (Exception) when (batch.Count > 1)
        {
            // One request's failure (a text the model rejects, its adapter removed meanwhile) must not fail its partners.
            foreach (var request in batch)
                ScoreAlone(request);
        }
        catch (Exception e)
        {
            batch[0].Result.TrySetException(e);
        }
    }

    private void ScoreAlone(Request request)
    {
        try
        {
            Complete([request], Run([request]));
        }
        catch (Exception e)
        {
            request.Result.TrySetException(e);
        }
    }

    /// <summary>One scorer call for all texts of <paramref name="requests"/>, each text with its request's adapter.</summary>
    private IReadOnlyList<TextScore> Run(List<Request> requests)
    {
        var prepared = requests.SelectMany(r => r.Texts).ToArray();
        if (_routed is null)
            return _scorer.Score(prepared);
        var adapters = requests.SelectMany(r => Enumerable.Repeat(r.Adapter, r.Texts.Count)).ToArray();
        return _routed.Score(prepared, adapters);
    }

    private static void Complete(List<Request> requests, IReadOnlyList<TextScore> scores)
    {
        var offset = 0;
        foreach (var request in requests)
        {
            request.Result.TrySetResult(scores.Skip(offset).Take(request.Texts.Count).ToArray());
            offset += request.Texts.Count;
        }
    }

    private sealed record Request(IReadOnlyList<PreparedText> Texts, string? Adapter, TaskCompletionSource<IReadOnlyList<TextScore>> Result);
}
