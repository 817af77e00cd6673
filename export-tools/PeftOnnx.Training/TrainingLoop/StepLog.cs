namespace PeftOnnx.Training.TrainingLoop;

/// <summary>A running-loss line of metrics.jsonl, written every few steps.</summary>
public sealed record StepLog
{
    public string Kind { get; init; } = "step";
    public int Epoch { get; init; }
    public int Step { get; init; }
    public double Loss { get; init; }
    public double LearningRate { get; init; }
}
