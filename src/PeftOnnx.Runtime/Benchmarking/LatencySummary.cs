namespace PeftOnnx.Runtime.Benchmarking;

/// <summary>Latency samples of one benchmark target (milliseconds) and the statistics the tables report.</summary>
public sealed class LatencySummary
{
    private readonly List<double> _milliseconds = [];

    public int Count => _milliseconds.Count;

    public void Add(double milliseconds) => _milliseconds.Add(milliseconds);

    public double Median => Percentile(50);

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
}
