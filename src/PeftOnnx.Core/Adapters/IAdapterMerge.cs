using PeftOnnx.Core.Numerics;

namespace PeftOnnx.Core.Adapters;

/// <summary>
/// How one adapter method folds into the base encoder's Linear layers. The export's merge pass asks it, module by
/// module, for the merged weight; the trainer and the tests use the same objects, so there is one implementation.
/// </summary>
public interface IAdapterMerge
{
    /// <summary>Encoder modules (e.g. "encoder.layer.0.attention.self.query") whose weights the adapter changes.</summary>
    IReadOnlyList<string> Modules { get; }

    /// <summary>Encoder parameters the adapter replaces outright (bias="all" biases, modules_to_save inside the encoder).</summary>
    IReadOnlyList<AdapterTensor> Replacements { get; }

    /// <summary>Non-fatal notes for the user (e.g. fan_in_fan_out ignored for Linear layers, as PEFT does).</summary>
    IReadOnlyList<string> Warnings { get; }

    /// <summary>
    /// The merged weight and bias of <paramref name="moduleName"/>, computed in float64. Throws
    /// <see cref="InvalidDataException"/> when shapes disagree (showing both) or a value is NaN/Inf (naming the module).
    /// </summary>
    /// <param name="moduleName">One of <see cref="Modules"/>.</param>
    /// <param name="weight">The base weight, [out, in] (torch layout).</param>
    /// <param name="bias">The base bias, [out], or null.</param>
    MergedLinear Merge(string moduleName, Matrix64 weight, double[]? bias);
}
