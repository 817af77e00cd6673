using PeftOnnx.Onnx.Graph;

namespace PeftOnnx.Onnx.Passes;

/// <summary>
/// One graph pass (ONNX Runtime's Fusion: match, nodes to remove, nodes to add, apply). The pass matches on the
/// unchanged graph and collects its edits in a <see cref="GraphRewrite"/>; <see cref="GraphPasses"/>
/// applies them together. A pattern the pass meets but does not handle goes into the report with the reason, never
/// skipped silently; a model the pass must not change (bad input) is refused with an exception before anything changes.
/// </summary>
public interface IGraphPass
{
    /// <summary>Short name for logs and <c>--fusions</c> ("LayerNormalization", "fp16", "int8-dynamic").</summary>
    string Name { get; }

    /// <summary>Matches on <see cref="GraphRewrite.Index"/> and collects every edit in <paramref name="rewrite"/>; does not touch the model.</summary>
    PassReport Collect(GraphRewrite rewrite);
}
