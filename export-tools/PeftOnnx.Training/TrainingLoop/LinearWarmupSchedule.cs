namespace PeftOnnx.Training.TrainingLoop;

/// <summary>
/// transformers' get_linear_schedule_with_warmup: the learning-rate factor rises linearly from 0 over the
/// warm-up steps, then falls linearly to 0 at the last step.
/// </summary>
public sealed record LinearWarmupSchedule(int TotalSteps, int WarmupSteps)
{
    public static LinearWarmupSchedule For(int totalSteps, double warmupRatio) =>
        new(totalSteps, (int)Math.Ceiling(totalSteps * warmupRatio));

    /// <summary>Factor for the optimizer step taken after <paramref name="completedSteps"/> steps.</summary>
    public double Factor(int completedSteps)
    {
        if (completedSteps < WarmupSteps)
            return (double)completedSteps / Math.Max(1, WarmupSteps);
        return Math.Max(0.0, (double)(TotalSteps - completedSteps) / Math.Max(1, TotalSteps - WarmupSteps));
    }
}
