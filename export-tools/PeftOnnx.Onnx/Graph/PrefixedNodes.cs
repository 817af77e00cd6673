using Onnx;
using static PeftOnnx.Onnx.Graph.OnnxNodes;
using DataType = Onnx.TensorProto.Types.DataType;

namespace PeftOnnx.Onnx.Graph;

/// <summary>
/// The nodes, initializers and graph inputs a pass adds to a <see cref="GraphRewrite"/>, named under the pass's
/// prefix so they never clash with the base graph's names and read as one group in a viewer.
/// </summary>
public sealed class PrefixedNodes(GraphRewrite rewrite, string prefix)
{
    public GraphRewrite Rewrite { get; } = rewrite ?? throw new ArgumentNullException(nameof(rewrite));

    public string Prefix { get; } = prefix;

    /// <summary>Adds a node with one output named <c>prefix + name</c>; returns that output.</summary>
    public string Node(string op, string name, IEnumerable<string> inputs, params AttributeProto[] attributes) =>
        NodeTo(op, name, inputs, Prefix + name, attributes);

    /// <summary>Adds a node whose output keeps an existing value's name (the node it replaces is removed by the caller).</summary>
    public string NodeTo(string op, string name, IEnumerable<string> inputs, string output, params AttributeProto[] attributes)
    {
        Rewrite.Add(OnnxNodes.Node(op, Prefix + name, "", inputs, [output], attributes));
        return output;
    }

    /// <summary>An int64 initializer [values.Length] named <c>prefix + name</c>.</summary>
    public string Int64s(string name, params long[] values) => Rewrite.AddInitializer(TensorData.FromInt64(Prefix + name, values, values.Length));

    public string Initializer(TensorProto tensor) => Rewrite.AddInitializer(tensor);

    /// <summary>
    /// A float32 graph input that also has an initializer default: ONNX Runtime uses the default unless a run feeds the
    /// input (directly or through an active LoRA adapter). <paramref name="dims"/> holds a number or a symbol per axis.
    /// </summary>
    public string OverridableInput(TensorProto defaultValue, params object[] dims)
    {
        ArgumentNullException.ThrowIfNull(defaultValue);
        Rewrite.AddInitializer(defaultValue);
        Rewrite.AddInput(ValueInfo(defaultValue.Name, DataType.Float, dims));
        return defaultValue.Name;
    }
}
