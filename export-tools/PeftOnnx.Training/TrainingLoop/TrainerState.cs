namespace PeftOnnx.Training.TrainingLoop;

/// <summary>Where training stands (state.json of a checkpoint): enough to resume at the exact batch.</summary>
public sealed record TrainerState
{
    /// <summary>The epoch in progress (1-based).</summary>
    public int Epoch { get; init; } = 1;
    /// <summary>Batches of <see cref="Epoch"/> already trained.</summary>
    public int BatchInEpoch { get; init; }
    public int GlobalStep { get; init; }
    public int TotalSteps { get; init; }
    /// <summary>Loss sum, steps and tokens since the last dev evaluation (the epoch's, when evaluating each epoch).</summary>
    public double EpochLossSum { get; init; }
    public long EpochTokens { get; init; }
    public int StepsSinceEval { get; init; }
    /// <summary>Best dev metric so far; -1 before the first evaluation (metrics lie in [0, 1]).</summary>
    public double BestMetric { get; init; } = -1;
    public int BestEpoch { get; init; }
    /// <summary>The optimizer step of the best dev evaluation.</summary>
    public int BestStep { get; init; }
    public int EpochsWithoutImprovement { get; init; }
    public double ElapsedSeconds { get; init; }
    public int Seed { get; init; }
    public string Method { get; init; } = "";
}
