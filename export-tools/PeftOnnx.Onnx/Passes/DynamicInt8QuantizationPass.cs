using Onnx;
using PeftOnnx.Onnx.Graph;
using DataType = Onnx.TensorProto.Types.DataType;

namespace PeftOnnx.Onnx.Passes;

/// <summary>How a quantized MatMul is written.</summary>
public enum Int8MatMulFormat
{
    /// <summary>One com.microsoft DynamicQuantizeMatMul per MatMul, with the following bias Add folded in.</summary>
    DynamicQuantizeMatMul,
    /// <summary>Standard ops: DynamicQuantizeLinear + MatMulInteger + Cast + Mul (what ORT's quantize_dynamic writes).</summary>
    MatMulInteger,
}

/// <summary>
/// Dynamic int8 quantization for CPU inference, like ORT's quantize_dynamic with per_channel=True: every MatMul with a
/// constant 2-D weight gets symmetric int8 weights with one scale per output column, activations are quantized to
/// uint8 at run time (u8s8 GEMM, VNNI/AMX on x86). Embedding tables read by Gather become int8 with one scale per row,
/// which is most of the size of a small encoder. Other initializers (LayerNorm, biases, a Gemm pooler) stay float32.
/// </summary>
public sealed class DynamicInt8QuantizationPass : IModelPass
{
    public Int8MatMulFormat Format { get; init; } = Int8MatMulFormat.DynamicQuantizeMatMul;

    /// <summary>Quantize Gather tables (embeddings) with at least <see cref="MinTableElements"/> values.</summary>
    public bool QuantizeEmbeddings { get; init; } = true;

    /// <summary>Smaller tables (e.g. token types, 2x384) are not worth the extra nodes.</summary>
    public long MinTableElements { get; init; } = 16384;

    /// <summary>Nodes (by name) left in float32, like quantize_dynamic's nodes_to_exclude.</summary>
    public IReadOnlySet<string> NodesToExclude { get; init; } = new HashSet<string>();

    public string Name => "int8-dynamic";

    public string Apply(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var plan = new Int8Plan(model.Graph, this);
        foreach (var node in model.Graph.Node.Where(n => !NodesToExclude.Contains(n.Name)).ToList())
        {
            if (node.OpType == "MatMul" && node.Domain.Length == 0)
                plan.QuantizeMatMul(node);
            else if (node.OpType == "Gather" && node.Domain.Length == 0 && QuantizeEmbeddings)
                plan.QuantizeGather(node);
        }
        plan.ApplyTo(model);
        TopologicalSort.Apply(model.Graph);
        return plan.Summary;
    }
}
