using static TorchSharp.torch;

namespace PeftOnnx.Training.TrainingLoop;

/// <summary>A module with a penalty the trainer adds to the loss of every step (AdapterFusion's value-matrix regularization).</summary>
public interface IRegularizedModule
{
    /// <summary>The penalty for the current parameters, or null when the module has none.</summary>
    Tensor? Penalty();
}
