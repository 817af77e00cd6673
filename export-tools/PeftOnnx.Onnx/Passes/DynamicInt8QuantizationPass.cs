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
/// which is most of the size of a small encoder. A fused com.microsoft Attention becomes QAttention (int8 packed QKV
/// weights, per-column scales). Other initializers (LayerNorm, biases, a Gemm pooler) stay float32.
/// </summary>
public sealed class DynamicInt8QuantizationPass : IGraphPass
{
    public Int8MatMulFormat Format { get; init; } = Int8MatMulFormat.DynamicQuantizeMatMul;

    /// <summary>Quantize Gather tables (embeddings) with at least <see cref="MinTableElements"/> values.</summary>
    public bool QuantizeEmbeddings { get; init; } = true;

    /// <summary>Smaller tables (e.g. token types, 2x384) are not worth the extra nodes.</summary>
    public long MinTableElements { get; init; } = 16384;

    /// <summary>
    /// With <see cref="Int8MatMulFormat.DynamicQuantizeMatMul"/>: MatMuls reading the same input (query, key, value) become
    /// one GEMM over their concatenated weights followed by a Split (same numbers, fewer and wider GEMMs). Needs opset 13+.
    /// </summary>
    public bool PackSharedInputs { get; init; } = true;

    /// <summary>Nodes (by name) left in float32, like quantize_dynamic's nodes_to_exclude.</summary>
    public IReadOnlySet<string> NodesToExclude { get; init; } = new HashSet<string>();

    public string Name => "int8-dynamic";

    public PassReport Collect(GraphRewrite rewrite)
    {
        ArgumentNullException.ThrowIfNull(rewrite);
        var plan = new Int8Plan(rewrite, this);
        var nodes = rewrite.Graph.Node.Where(n => !NodesToExclude.Contains(n.Name) && n.Domain.Length == 0).ToList();
        var matMuls = nodes.Where(n => n.OpType == "MatMul").ToList();
        var packed = new HashSet<NodeProto>(ReferenceEqualityComparer.Instance);
        if (Format == Int8MatMulFormat.DynamicQuantizeMatMul && PackSharedInputs && rewrite.Opset >= 13)
        {
            foreach (var group in matMuls.Where(m => plan.QuantizableWeight(m) is not null).GroupBy(m => m.Input[0]).Select(g => g.ToList()))
            {
                if (group.Count > 1 && plan.QuantizePacked(group))
                    packed.UnionWith(group);
            }
        }
        foreach (var node in matMuls.Where(m => !packed.Contains(m)))
            plan.QuantizeMatMul(node);
        foreach (var node in rewrite.Graph.Node.Where(n => n is { OpType: "Attention", Domain: "com.microsoft" } && !NodesToExclude.Contains(n.Name)).ToList())
            plan.QuantizeAttention(node);
        if (QuantizeEmbeddings)
        {
            foreach (var node in nodes.Where(n => n.OpType == "Gather"))
                plan.QuantizeGather(node);
        }
        plan.Finish();
        return PassReport.Of(this, plan.MatMuls, plan.Summary);
    }
}
