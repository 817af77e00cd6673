namespace PeftOnnx.Training.TrainingLoop;

/// <summary>Optimisation settings (defaults follow the Hugging Face Trainer runs in data/README.md).</summary>
public sealed record TrainingOptions
{
    public int Epochs { get; init; } = 10;
    public double LearningRate { get; init; } = 1e-3;
    public int BatchSize { get; init; } = 32;
    public int EvalBatchSize { get; init; } = 64;
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>Fraction of all optimizer steps spent warming the learning rate up from 0.</summary>
    public double WarmupRatio { get; init; } = 0.06;
    public double MaxGradNorm { get; init; } = 1.0;
    public int Seed { get; init; } = 1;
    /// <summary>Stop after this many evaluations without a better dev metric; 0 disables early stopping.</summary>
    public int EarlyStoppingPatience { get; init; }
    /// <summary>accuracy or macro_f1: the dev metric that picks the best checkpoint.</summary>
    public string SelectionMetric { get; init; } = "accuracy";
    /// <summary>Stop training (keeping the best-dev checkpoint so far) once this run has trained this long; null = no limit.</summary>
    public TimeSpan? TimeLimit { get; init; }
    /// <summary>Recompute each transformer block in the backward pass: far less activation memory, one more forward pass.</summary>
    public bool GradientCheckpointing { get; init; }
    /// <summary>Log the running loss every this many steps to metrics.jsonl.</summary>
    public int LogEverySteps { get; init; } = 10;
    /// <summary>Train this many optimizer steps (the schedule decays to 0 there) instead of <see cref="Epochs"/> epochs; null = epochs.</summary>
    public int? MaxSteps { get; init; }
    /// <summary>Evaluate on dev every this many steps (and when training ends) instead of after each epoch; null = each epoch.</summary>
    public int? EvalSteps { get; init; }
    /// <summary>Also save the resumable last checkpoint every this many steps (it is always saved after an evaluation); null = never between.</summary>
    public int? SaveSteps { get; init; }

    public void Validate()
    {
        if (Epochs <= 0)
            throw new ArgumentException($"--epochs should be positive, got {Epochs}.");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate))
            throw new ArgumentException($"--lr should be a positive number, got {LearningRate}.");
        if (BatchSize <= 0 || EvalBatchSize <= 0)
            throw new ArgumentException($"--batch-size should be positive, got {BatchSize} (eval {EvalBatchSize}).");
        if (WeightDecay < 0 || WarmupRatio is < 0 or >= 1 || MaxGradNorm <= 0)
            throw new ArgumentException($"weight decay ({WeightDecay}) must be >= 0, warmup ratio ({WarmupRatio}) in [0, 1), max grad norm ({MaxGradNorm}) > 0.");
        if (SelectionMetric is not ("accuracy" or "macro_f1"))
            throw new ArgumentException($"the selection metric should be accuracy or macro_f1, got '{SelectionMetric}'.");
        if (MaxSteps is <= 0 || EvalSteps is <= 0 || SaveSteps is <= 0)
            throw new ArgumentException($"--max-steps ({MaxSteps}), --eval-steps ({EvalSteps}) and --save-steps ({SaveSteps}) should be positive when given.");
        if (EarlyStoppingPatience < 0)
            throw new ArgumentException($"early-stopping patience should be >= 0, got {EarlyStoppingPatience}.");
    }
}
