using System.Threading.Channels;
using PeftOnnx.Hosting.Metrics;
using PeftOnnx.Runtime.Scoring;

namespace PeftOnnx.Hosting.Http;

/// <summary>
/// Combines the texts of concurrent HTTP requests into model calls of up to MaxBatch texts: the first waiting text
/// holds the batch open for at most MaxWait, then one call scores everyone's texts and each request gets its slice.
/// One loop calls the scorer, so a burst of requests costs a few large calls instead of many small ones.
/// </summary>
public sealed class MicroBatcher : IAsyncDisposable
{
    private readonly ITextScorer _scorer;
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
        _maxBatch = maxBatch;
        _maxWait = maxWait;
        _metrics = metrics;
        metrics?.TrackQueueDepth(() => Volatile.Read(ref _waitingTexts));
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Texts waiting for a model call.</summary>
    public int QueueDepth => Volatile.Read(ref _waitingTexts);

    /// <summary>Scores <paramref name="texts"/> as part of whatever batch is forming; result i belongs to text i.</summary>
    public Task<IReadOnlyList<TextScore>> ScoreAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        var request = new Request(texts, new TaskCompletionSource<IReadOnlyList<TextScore>>(TaskCreationOptions.RunContinuationsAsynchronously));
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
            var all = batch.SelectMany(r => r.Texts).ToArray();
            var scores = _scorer.Score(all);
            var offset = 0;
            foreach (var request in batch)
            {
                request.Result.TrySetResult(scores.Skip(offset).Take(request.Texts.Count).ToArray());
                offset += request.Texts.Count;
            }
        }
        catch (Exception e)
        {
            foreach (var request in batch)
                request.Result.TrySetException(e);
        }
    }

    private sealed record Request(IReadOnlyList<string> Texts, TaskCompletionSource<IReadOnlyList<TextScore>> Result);
}
