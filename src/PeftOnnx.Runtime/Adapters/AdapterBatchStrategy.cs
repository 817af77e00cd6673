namespace PeftOnnx.Runtime.Adapters;

/// <summary>How a call with rows of several adapters is run.</summary>
public enum AdapterBatching
{
    /// <summary>Rows grouped by adapter: one run per adapter (OrtLoraAdapter), full LoRA speed, more runs.</summary>
    Grouped,

    /// <summary>Rows of all adapters in shared batches through the mixed graph's adapter_index: fewer, fuller runs.</summary>
    Mixed,
}

/// <summary>
/// Picks grouped or mixed batching by measured throughput: each strategy is tried on real calls until it has
/// <see cref="Samples"/> measurements, then the faster one (tokens per second, exponentially averaged) is used, and the
/// other is re-measured every <see cref="ExploreEvery"/> calls so a change of load or adapter mix is noticed.
/// Side-form bundles (no adapter_index) only group. Thread-safe.
/// </summary>
public sealed class AdapterBatchStrategy(bool mixedAvailable)
{
    public const int Samples = 2;
    public const int ExploreEvery = 20;
    private const double Smoothing = 0.3;
    private readonly object _gate = new();
    private readonly double[] _rate = new double[2];
    private readonly int[] _count = new int[2];
    private int _calls;

    /// <summary>The strategy for the next call with <paramref name="adapterCount"/> distinct adapters.</summary>
    public AdapterBatching Choose(int adapterCount)
    {
        if (!mixedAvailable)
            return AdapterBatching.Grouped;
        if (adapterCount <= 1)
            return AdapterBatching.Grouped; // one adapter: both are one run per batch; grouped skips the gathers
        lock (_gate)
        {
            _calls++;
            for (var s = 0; s < 2; s++)
            {
                if (_count[s] < Samples)
                    return (AdapterBatching)s;
            }
            var best = _rate[(int)AdapterBatching.Mixed] > _rate[(int)AdapterBatching.Grouped] ? AdapterBatching.Mixed : AdapterBatching.Grouped;
            return _calls % ExploreEvery == 0 ? 1 - best : best;
        }
    }

    /// <summary>Records a call's throughput.</summary>
    public void Record(AdapterBatching strategy, long tokens, TimeSpan elapsed)
    {
        var rate = tokens / Math.Max(elapsed.TotalSeconds, 1e-6);
        lock (_gate)
        {
            var s = (int)strategy;
            _rate[s] = _count[s] == 0 ? rate : (1 - Smoothing) * _rate[s] + Smoothing * rate;
            _count[s]++;
        }
    }

    /// <summary>Measured tokens per second of each strategy (0 until measured).</summary>
    public (double Grouped, double Mixed) Rates
    {
        get
        {
            lock (_gate)
                return (_rate[0], _rate[1]);
        }
    }
}
