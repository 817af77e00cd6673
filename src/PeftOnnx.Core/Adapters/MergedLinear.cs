using PeftOnnx.Core.Numerics;

namespace PeftOnnx.Core.Adapters;

/// <summary>A Linear layer after an adapter was folded in: weight [out, in] (torch layout) and bias [out] (null if none).</summary>
public sealed record MergedLinear(Matrix64 Weight, double[]? Bias);
