using Onnx;
using PeftOnnx.Onnx.Graph;
using static PeftOnnx.Onnx.Graph.OnnxNodes;
using DataType = Onnx.TensorProto.Types.DataType;

namespace PeftOnnx.Onnx.Passes;

/// <summary>
/// Adds a <c>sentence_embedding</c> output computed in the graph, as sentence-transformers pools MiniLM: the mean of
/// the token states over the attention mask, then L2 normalisation. A caller that needs only embeddings then copies
/// (B, H) values out of the session instead of (B, S, H): 128x less at sequence 128, which is what makes GPU runs
/// stop waiting on the device-to-host copy.
/// <code>
///   h (B,S,H) ─ Mul(mask (B,S,1)) ─ ReduceSum(axis 1) ─ Div(max(ReduceSum(mask, axis 1), 1e-9)) ─ mean (B,H)
///   mean ─ Div(max(sqrt(ReduceSum(mean², axis 1)), 1e-12)) ─ sentence_embedding (B,H)
/// </code>
/// With <c>pooledOnly</c> the other outputs are removed (and the nodes only they needed).
/// </summary>
public sealed class PooledOutputPass(string hiddenOutput = "last_hidden_state", string maskInput = "attention_mask", bool normalize = true, bool pooledOnly = false) : IGraphPass
{
    public const string OutputName = "sentence_embedding";

    public string Name => "pooled-output";

    public PassReport Collect(GraphRewrite rewrite)
    {
        ArgumentNullException.ThrowIfNull(rewrite);
        var graph = rewrite.Graph;
        var hidden = graph.Output.FirstOrDefault(o => o.Name == hiddenOutput)
            ?? throw new InvalidDataException($"The model has no '{hiddenOutput}' output to pool (it has {string.Join(", ", graph.Output.Select(o => o.Name))}).");
        if (graph.Input.All(i => i.Name != maskInput))
            throw new InvalidDataException($"The model has no '{maskInput}' input to pool over (it has {string.Join(", ", graph.Input.Select(i => i.Name))}).");
        if (graph.Output.Any(o => o.Name == OutputName))
            throw new InvalidDataException($"The model already has a '{OutputName}' output.");
        var elementType = hidden.Type.TensorType.ElemType;
        if (elementType is not ((int)DataType.Float or (int)DataType.Float16))
            throw new InvalidDataException($"'{hiddenOutput}' is {TensorElementTypes.Name(elementType)}; pooling needs FLOAT or FLOAT16 states.");

        const string p = "Pooling_";
        rewrite.AddInitializer(TensorData.FromInt64(p + "axis1", [1], 1));
        rewrite.AddInitializer(TensorData.FromInt64(p + "axis2", [2], 1));
        rewrite.AddInitializer(Scalar(p + "min_count", 1e-9f, elementType));
        rewrite.AddInitializer(Scalar(p + "min_norm", 1e-12f, elementType));
        var nodes = new List<NodeProto>
        {
            Cast(p + "MaskCast", maskInput, p + "mask", elementType),
            // (B, S) -> (B, S, 1)
            Node("Unsqueeze", p + "MaskUnsqueeze", "", [p + "mask", p + "axis2"], [p + "mask3"]),
            Node("Mul", p + "Masked", "", [hiddenOutput, p + "mask3"], [p + "masked"]),
            // (B, S, H) -> (B, H)
            Node("ReduceSum", p + "Sum", "", [p + "masked", p + "axis1"], [p + "sum"], IntAttribute("keepdims", 0)),
            // (B, S, 1) -> (B, 1)
            Node("ReduceSum", p + "Count", "", [p + "mask3", p + "axis1"], [p + "count"], IntAttribute("keepdims", 0)),
            Node("Max", p + "CountClamp", "", [p + "count", p + "min_count"], [p + "count_clamped"]),
        };
        var mean = normalize ? p + "mean" : OutputName;
        nodes.Add(Node("Div", p + "Mean", "", [p + "sum", p + "count_clamped"], [mean]));
        if (normalize)
        {
            nodes.AddRange(
            [
                Node("Mul", p + "Square", "", [mean, mean], [p + "square"]),
                // (B, H) -> (B, 1)
                Node("ReduceSum", p + "SquareSum", "", [p + "square", p + "axis1"], [p + "square_sum"], IntAttribute("keepdims", 1)),
                Node("Sqrt", p + "Norm", "", [p + "square_sum"], [p + "norm"]),
                Node("Max", p + "NormClamp", "", [p + "norm", p + "min_norm"], [p + "norm_clamped"]),
                Node("Div", p + "Normalize", "", [mean, p + "norm_clamped"], [OutputName]),
            ]);
        }
        foreach (var node in nodes)
            rewrite.Add(node);

        var batch = hidden.Type.TensorType.Shape?.Dim.FirstOrDefault() ?? new TensorShapeProto.Types.Dimension { DimParam = "batch" };
        var width = hidden.Type.TensorType.Shape?.Dim.LastOrDefault() ?? new TensorShapeProto.Types.Dimension { DimParam = "hidden" };
        var output = ValueInfo(OutputName, (DataType)elementType, batch, width);
        if (pooledOnly)
        {
            rewrite.ReplaceOutputs(output);
            rewrite.PruneDeadNodes();
        }
        else
        {
            rewrite.AddOutput(output);
        }
        return PassReport.Of(this, 1, $"'{OutputName}' added{(pooledOnly ? " as the only output" : "")}");
    }

    private static TensorProto Scalar(string name, float value, int elementType) =>
        elementType == (int)DataType.Float16 ? TensorData.FromFloat32AsFloat16(name, [value]) : TensorData.FromFloat32(name, [value]);
}
