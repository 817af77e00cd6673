using System.Diagnostics.Metrics;

namespace PeftOnnx.Hosting.Metrics;

/// <summary>
/// The worker's instruments (System.Diagnostics.Metrics), exported in Prometheus format at /metrics through
/// OpenTelemetry: HTTP requests and latency, batch sizes, queue depth, documents scored and skipped, storage errors.
/// </summary>
public sealed class HostingMetrics : IDisposable
{
    public const string MeterName = "PeftOnnx.Hosting";

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _requestDuration;
    private readonly Histogram<int> _batchSize;
    private readonly Counter<long> _documentsScored;
    private readonly Counter<long> _documentsSkipped;
    private readonly Counter<long> _storageErrors;
    private readonly List<Func<long>> _queueDepths = [];
    private readonly List<Func<long>> _storageFailing = [];

    public HostingMetrics()
    {
        _meter = new Meter(MeterName);
        _requests = _meter.CreateCounter<long>("peftonnx.http.requests", "{request}", "HTTP API requests by endpoint and status code");
        _requestDuration = _meter.CreateHistogram<double>("peftonnx.http.request.duration", "s", "HTTP API request latency",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _batchSize = _meter.CreateHistogram<int>("peftonnx.batch.size", "{text}", "Texts per model call",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
        _documentsScored = _meter.CreateCounter<long>("peftonnx.documents.scored", "{document}", "Documents scored and durably written");
        _documentsSkipped = _meter.CreateCounter<long>("peftonnx.documents.skipped", "{document}", "Documents not scored (bad content, duplicates, failures)");
        _meter.CreateObservableGauge("peftonnx.queue.depth", ObserveQueueDepth, "{item}", "Items waiting in the micro-batcher and the scoring pipeline");
        _storageErrors = _meter.CreateCounter<long>("peftonnx.storage.errors", "{error}", "Failed ledger or outbox operations (full disk, I/O error), each retried");
        _meter.CreateObservableGauge("peftonnx.storage.failing", () => Sum(_storageFailing), "{operation}", "Ledger and outbox operations waiting for the storage to take writes again (0: healthy)");
    }

    public void RecordRequest(string endpoint, int statusCode, TimeSpan elapsed)
    {
        var tags = new KeyValuePair<string, object?>[] { new("endpoint", endpoint), new("status", statusCode) };
        _requests.Add(1, tags);
        _requestDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("endpoint", endpoint));
    }

    public void RecordBatch(string source, int size) => _batchSize.Record(size, new KeyValuePair<string, object?>("source", source));

    public void RecordScored(string source, int count) => _documentsScored.Add(count, new KeyValuePair<string, object?>("source", source));

    public void RecordSkipped(string kind) => _documentsSkipped.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void RecordStorageError(string source, string operation) => _storageErrors.Add(1,
        new KeyValuePair<string, object?>("source", source), new KeyValuePair<string, object?>("operation", operation));

    /// <summary>Adds a count of operations retrying storage errors, reported under peftonnx.storage.failing.</summary>
    public void TrackStorageFailing(Func<long> failing)
    {
        lock (_storageFailing)
            _storageFailing.Add(failing);
    }

    /// <summary>Adds a queue whose depth is reported under peftonnx.queue.depth.</summary>
    public void TrackQueueDepth(Func<long> depth)
    {
        lock (_queueDepths)
            _queueDepths.Add(depth);
    }

    public void Dispose() => _meter.Dispose();

    private long ObserveQueueDepth() => Sum(_queueDepths);

    private static long Sum(List<Func<long>> sources)
    {
        lock (sources)
            return sources.Sum(source => source());
    }
}
