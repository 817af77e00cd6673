using Onnx;
using PeftOnnx.Onnx.Graph;
using PeftOnnx.Onnx.Passes.Patterns;
using static PeftOnnx.Onnx.Graph.OnnxNodes;
using static PeftOnnx.Onnx.Passes.Fusions.FusionPatterns;

namespace PeftOnnx.Onnx.Passes.Fusions;

/// <summary>How the fused attention block is written.</summary>
public enum AttentionFusionKind
{
    /// <summary>com.microsoft Attention: the Q/K/V projections packed into the node (one fp32 GEMM inside it).</summary>
    Attention,
    /// <summary>
    /// com.microsoft MultiHeadAttention after the Q/K/V projections, which stay MatMul + Add: int8 quantization then
    /// makes them DynamicQuantizeMatMul with the bias folded in, and the head transposes, score scale, mask Add and
    /// softmax run inside one kernel.
    /// </summary>
    MultiHeadAttention,
}

/// <summary>
/// Fuses BERT self-attention into one com.microsoft Attention node with packed Q/K/V weights:
/// <code>
///   x ─ MatMul(Wq) ─ Add(bq) ─ Reshape(B,S,N,D) ─ Transpose(0,2,1,3) ─┐
///   x ─ MatMul(Wk) ─ Add(bk) ─ Reshape(B,S,N,D) ─ Transpose(0,2,3,1) ─ MatMul ─ Div(√D) ─ Add(mask) ─ Softmax ─┐
///   x ─ MatMul(Wv) ─ Add(bv) ─ Reshape(B,S,N,D) ─ Transpose(0,2,1,3) ───────────────────────────────────────── MatMul
///       ─ Transpose(0,2,1,3) ─ Reshape(B,S,H) ─ y
/// </code>
/// becomes <c>y = Attention(x, [Wq|Wk|Wv], [bq|bk|bv], mask_index, num_heads=N)</c>. The mask becomes
/// mask_index = ReduceSum(Cast(attention_mask, int32), axis 1): one length per row, which assumes right padding, as
/// the runtime's batches (and ONNX Runtime's own transformer optimizer by default) do; it lets the CUDA provider use
/// its fused kernels. With <see cref="AttentionFusionKind.MultiHeadAttention"/> the projections stay and
/// <c>y = MultiHeadAttention(q, k, v, key_padding_mask = Cast(attention_mask, int32), num_heads=N)</c> replaces the rest.
/// Adapter side-graphs on a projection (its output is not MatMul + bias) are reported, not fused.
/// </summary>
public sealed class AttentionFusion(AttentionFusionKind kind = AttentionFusionKind.Attention) : IGraphPass
{
    private const string MaskIndex = "attention_mask_index";
    private const string KeyPaddingMask = "attention_key_padding_mask";

    public AttentionFusionKind Kind { get; } = kind;

    public string Name => Kind == AttentionFusionKind.Attention ? "Attention" : "MultiHeadAttention";

    public PassReport Collect(GraphRewrite rewrite)
    {
        ArgumentNullException.ThrowIfNull(rewrite);
        var graph = rewrite.Graph;
        var index = rewrite.Index;
        var unhandled = new List<string>();
        string? maskInput = null;
        // A Softmax whose probabilities weigh no values (a classifier's) is not attention: nothing to report.
        foreach (var softmax in graph.Node.Where(n => n.OpType == "Softmax" && index.Consumers(n.Output[0]).Any(c => c.OpType == "MatMul")).ToList())
        {
            var where = $"attention at {GraphIndex.Describe(softmax)}";
            var block = SelfAttentionBlock.Match(index, softmax, out var reason);
            if (block is null)
            {
                unhandled.Add($"{where}: {reason}");
                continue;
            }
            var (q, k, v, output) = (block.Query, block.Key, block.Value, block.Output);
            var mask = MaskSource(index, block.MaskAdd);
            if (mask is null || (maskInput is not null && mask != maskInput))
            {
                unhandled.Add($"{where}: the additive mask is not (1 - attention_mask) * c broadcast from a graph input");
                continue;
            }
            maskInput = mask;

            var matched = block.Nodes;
            if (matched.Any(rewrite.IsClaimed) || !block.OnlyShapeReadersOutside(index))
            {
                unhandled.Add($"{where}: an intermediate value is used outside the attention block");
                continue;
            }
            var layer = rewrite.Replaced;
            if (Kind == AttentionFusionKind.MultiHeadAttention)
            {
                // Keep each projection's MatMul + Add; their (B, S, H) outputs are MultiHeadAttention's query, key, value.
                NodeProto[] attentionCore = [.. new[] { q, k, v }.SelectMany(p => p.Nodes.Skip(2)), block.Scores, block.Scale, block.MaskAdd, softmax, block.Context, block.Merge];
                var mhaAttributes = new List<AttributeProto> { IntAttribute("num_heads", block.Heads) };
                if (Math.Abs(block.Divisor - MathF.Sqrt(block.HeadSize)) > 1e-3f)
                    mhaAttributes.Add(FloatAttribute("scale", 1f / block.Divisor));
                string[] mhaInputs = [q.Nodes[1].Output[0], k.Nodes[1].Output[0], v.Nodes[1].Output[0], "", KeyPaddingMask];
                rewrite.Replace(attentionCore, output, Node("MultiHeadAttention", $"MultiHeadAttention_{layer}", "com.microsoft", mhaInputs, [output.Output[0]], [.. mhaAttributes]));
                continue;
            }
            var packedWeight = $"Attention_{layer}_qkv_weight";
            var packedBias = $"Attention_{layer}_qkv_bias";
            rewrite.AddInitializer(PackWeights(index, packedWeight, q.Weight, k.Weight, v.Weight));
            rewrite.AddInitializer(PackBias(index, packedBias, q.Bias, k.Bias, v.Bias));
            var attributes = new List<AttributeProto> { IntAttribute("num_heads", block.Heads) };
            // Attention scales by 1/√D unless told otherwise.
            if (Math.Abs(block.Divisor - MathF.Sqrt(block.HeadSize)) > 1e-3f)
                attributes.Add(FloatAttribute("scale", 1f / block.Divisor));
            var fused = Node("Attention", $"Attention_{layer}", "com.microsoft", [q.Input, packedWeight, packedBias, MaskIndex], [output.Output[0]], [.. attributes]);
            rewrite.Replace(matched, output, fused);
        }
        if (rewrite.Replaced > 0 && Kind == AttentionFusionKind.MultiHeadAttention)
        {
            // key_padding_mask (B, S) int32: 1 for a real token, 0 for padding; any padding side works.
            rewrite.Add(Node("Cast", "AttentionMask_KeyPadding", "", [maskInput!], [KeyPaddingMask], IntAttribute("to", (long)TensorProto.Types.DataType.Int32)));
        }
        else if (rewrite.Replaced > 0)
        {
            var lengthAxis = $"{MaskIndex}_axis";
            rewrite.AddInitializer(TensorData.FromInt64(lengthAxis, [1], 1));
            // mask_index (B) = number of real tokens per row.
            rewrite.Add(Node("Cast", "AttentionMask_Int32", "", [maskInput!], [$"{MaskIndex}_int32"], IntAttribute("to", (long)TensorProto.Types.DataType.Int32)));
            rewrite.Add(Node("ReduceSum", "AttentionMask_Lengths", "", [$"{MaskIndex}_int32", lengthAxis], [MaskIndex], IntAttribute("keepdims", 0)));
        }
        if (rewrite.Replaced > 0)
            rewrite.RequireOpset(TransformerFusion.MicrosoftDomain, 1);
        rewrite.PruneDeadNodes();
        return PassReport.Of(this, rewrite.Replaced, $"fused {rewrite.Replaced}", unhandled);
    }

    /// <summary>
    /// The graph input behind the additive mask: (1 - Cast(Unsqueeze(Unsqueeze(attention_mask)))) * c, as BERT's
    /// get_extended_attention_mask exports it.
    /// </summary>
    private static string? MaskSource(GraphIndex index, NodeProto maskAdd)
    {
        var path = MatchParentPath(index, maskAdd, ["Mul", "Sub", "Cast", "Unsqueeze", "Unsqueeze"], [1, AnyInput, AnyInput, 0, 0]);
        if (path is null)
            return null;
        var source = path[4].Input[0];
        return index.Graph.Input.Any(i => i.Name == source) ? source : null;
    }

    /// <summary>[in, 3·out]: row i is Wq[i, :] | Wk[i, :] | Wv[i, :] (MatMul weights are stored [in, out]).</summary>
    private static TensorProto PackWeights(GraphIndex index, string name, string q, string k, string v)
    {
        var parts = new[] { q, k, v }.Select(n => index.Initializer(n)!).ToArray();
        var (rows, cols) = ((int)parts[0].Dims[0], (int)parts[0].Dims[1]);
        if (parts.Any(p => p.Dims[0] != rows || p.Dims[1] != cols))
            throw new InvalidDataException($"Q/K/V weights {q}, {k}, {v} differ in shape; cannot pack them for Attention.");
        var values = parts.Select(TensorData.ToFloat32).ToArray();
        var packed = new float[rows * 3 * cols];
        for (var r = 0; r < rows; r++)
        {
            for (var p = 0; p < 3; p++)
                values[p].AsSpan(r * cols, cols).CopyTo(packed.AsSpan((r * 3 * cols) + (p * cols), cols));
        }
        return TensorData.FromFloat32(name, packed, rows, 3L * cols);
    }

    private static TensorProto PackBias(GraphIndex index, string name, string q, string k, string v)
    {
        var packed = new[] { q, k, v }.SelectMany(n => TensorData.ToFloat32(index.Initializer(n)!)).ToArray();
        return TensorData.FromFloat32(name, packed, packed.Length);
    }
}
