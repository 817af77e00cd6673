namespace PeftOnnx.Training.TrainingLoop;

/// <summary>A module whose parameters live on a constraint set (LoReFT's orthonormal rows): the trainer projects them back after every optimizer step.</summary>
public interface IParameterConstraint
{
    void Project();
}
