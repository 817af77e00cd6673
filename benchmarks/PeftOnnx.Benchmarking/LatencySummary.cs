namespace PeftOnnx.Benchmarking;

/// <summary>Latency samples of one benchmark variant (milliseconds), in the order taken, and the statistics the tables report.</summary>
public sealed class LatencySummary
{
    private readonly List<double> _milliseconds = [];

    public int Count => _milliseconds.Count;

    /// <summary>The samples in the order they were taken.</summary>
    public IReadOnlyList<double> Samples => _milliseconds;

    public void Add(double milliseconds) => _milliseconds.Add(milliseconds);

    public double Median => Percentile(50);

    public double Mean => Total / Count;

    public double Total => _milliseconds.Sum();

    public double Min => _milliseconds.Min();

    public double Max => _milliseconds.Max();

    /// <summary>Linear-interpolated percentile, p in [0, 100].</summary>
    public double Percentile(double p)
    {
        if (_milliseconds.Count == 0)
            throw new InvalidOperationException("No latency samples were recorded.");
        ArgumentOutOfRangeException.ThrowIfLessThan(p, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(p, 100);
        var sorted = _milliseconds.Order().ToArray();
        var position = p / 100 * (sorted.Length - 1);
        var lower = (int)Math.Floor(position);
        var upper = Math.Min(lower + 1, sorted.Length - 1);
        return sorted[lower] + ((sorted[upper] - sorted[lower]) * (position - lower));
    }

    /// <summary>Items (tokens, documents) per second at the median latency when each call handles <paramref name="itemsPerCall"/>.</summary>
    public double PerSecond(double itemsPerCall) => itemsPerCall / (Median / 1000.0);

    /// <summary>
    /// The median of the paired ratios candidate[i] / baseline[i]: neighbours in time are compared, so a slow drift of
    /// the machine's speed cancels. Both must hold the same number of samples (the timer's rounds).
    /// </summary>
    public static double PairedRatio(LatencySummary baseline, LatencySummary candidate)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(candidate);
        if (baseline.Count != candidate.Count || baseline.Count == 0)
            throw new ArgumentException($"Paired ratios need the same non-zero number of samples, got {baseline.Count} and {candidate.Count}.", nameof(candidate));
        var ratios = new LatencySummary();
        for (var i = 0; i < baseline.Count; i++)
            ratios.Add(candidate._milliseconds[i] / baseline._milliseconds[i]);
        return ratios.Median;
    }
}
