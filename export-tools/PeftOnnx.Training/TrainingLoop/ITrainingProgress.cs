namespace PeftOnnx.Training.TrainingLoop;

/// <summary>Receives progress from the trainer (the CLI draws a progress bar from it).</summary>
public interface ITrainingProgress
{
    void TrainingStarted(int totalSteps, int completedSteps);

    void StepCompleted(int epoch, int completedSteps, double loss, double learningRate);

    void EpochEvaluated(EpochSummary summary);

    void Message(string text);
}
