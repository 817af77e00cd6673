using Onnx;

namespace PeftOnnx.Onnx.Passes;

/// <summary>
/// A graph rewrite. Passes match first and collect every change, then apply them together, so a pattern they cannot
/// handle fails the pass before the model is modified.
/// </summary>
public interface IModelPass
{
    /// <summary>Short name for logs ("fp16", "int8-dynamic").</summary>
    string Name { get; }

    /// <summary>Rewrites <paramref name="model"/> in place and returns a one-line summary of what changed.</summary>
    string Apply(ModelProto model);
}
