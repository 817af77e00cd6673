namespace PeftOnnx.Training.TrainingLoop;

/// <summary>One line of metrics.jsonl written after each dev evaluation (each epoch, or every --eval-steps).</summary>
public sealed record EpochSummary
{
    public string Kind { get; init; } = "epoch";
    public int Epoch { get; init; }
    public int Step { get; init; }
    /// <summary>Mean training loss since the previous evaluation.</summary>
    public double TrainLoss { get; init; }
    public double DevAccuracy { get; init; }
    public double DevMacroF1 { get; init; }
    public double LearningRate { get; init; }
    public double ElapsedSeconds { get; init; }
    public double TrainTokensPerSecond { get; init; }
    public long PeakMemoryBytes { get; init; }
    public bool Best { get; init; }
}
