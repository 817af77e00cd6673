namespace PeftOnnx.Cli.Commands.Bench;

/// <summary>Latency samples of one benchmark configuration (milliseconds) and what the table reports from them.</summary>
internal sealed class LatencyStats
{
    private readonly List<double> _milliseconds = [];

    public int Count => _milliseconds.Count;

    public void Add(double milliseconds) => _milliseconds.Add(milliseconds);

    /// <summary>Nearest-rank percentile (p in 0..100).</summary>
    public double Percentile(double p)
    {
        if (_milliseconds.Count == 0)
            throw new InvalidOperationException("No samples.");
        var sorted = _milliseconds.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public double Mean => _milliseconds.Average();

    /// <summary>Tokens per second when each call processes <paramref name="tokensPerCall"/> tokens.</summary>
    public double TokensPerSecond(int tokensPerCall) => tokensPerCall / (Mean / 1000.0);
}
