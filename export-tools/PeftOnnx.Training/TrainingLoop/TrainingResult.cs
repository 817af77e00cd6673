namespace PeftOnnx.Training.TrainingLoop;

/// <summary>What a finished run achieved; the model holds the best-dev parameters when it is returned.</summary>
public sealed record TrainingResult
{
    public int BestEpoch { get; init; }
    public int BestStep { get; init; }
    public double BestDevMetric { get; init; }
    public int EpochsRun { get; init; }
    public int Steps { get; init; }
    public double WallSeconds { get; init; }
    public double TrainTokensPerSecond { get; init; }
    public long PeakMemoryBytes { get; init; }
    public IReadOnlyList<EpochSummary> Epochs { get; init; } = [];
    public bool StoppedEarly { get; init; }
}
