using Onnx;
using PeftOnnx.Onnx.Graph;
using PeftOnnx.Onnx.Passes.Patterns;
using static PeftOnnx.Onnx.Graph.OnnxNodes;

namespace PeftOnnx.Onnx.Passes;

/// <summary>
/// Self-attention for query row 0 with the keys and values folded into the weights, for blocks whose projections
/// are plain MatMul + bias. With x the layer input and q = x₀Wq + bq, per head n:
/// <code>
///   scores = q·kⱼ / c = ((q Wkₙᵀ) / c) · xⱼ  (+ q·bk / c, the same for every j, which softmax cancels)
///   context = Σⱼ pⱼ vⱼ  = (Σⱼ pⱼ xⱼ) Wvₙ + bvₙ  (Σⱼ pⱼ = 1)
/// </code>
/// Two (B, N, S) x (B, S, H) products replace the K and V GEMMs over every token.
/// </summary>
internal static class FoldedQueryAttention
{
    private const string Prefix = ClsOnlyLastLayerPass.Prefix;

    /// <summary>False when a K or V weight or bias is a graph input: an adapter may replace it at run time, so it cannot be baked in.</summary>
    public static bool CanFold(GraphIndex index, SelfAttentionBlock block)
    {
        string[] folded = [block.Key.Weight, block.Key.Bias, block.Value.Weight, block.Value.Bias];
        return !folded.Any(w => index.Graph.Input.Any(i => i.Name == w));
    }

    /// <summary>The attention block for query row 0 only; its output keeps the block's output name, now (B, 1, H).</summary>
    public static IEnumerable<NodeProto> Build(GraphIndex index, SelfAttentionBlock block, string x0, GraphRewrite rewrite)
    {
        var (heads, size, x) = (block.Heads, block.HeadSize, block.Input);
        var hidden = heads * size;
        var wk = TensorData.ToFloat32(index.Initializer(block.Key.Weight)!);
        var wv = TensorData.ToFloat32(index.Initializer(block.Value.Weight)!);
        var bv = TensorData.ToFloat32(index.Initializer(block.Value.Bias)!);
        // key_by_head[n, d, i] = Wk[i, n·D + d] / c; value_by_head[n, i, d] = Wv[i, n·D + d]; value_bias[n, 0, d] = bv[n·D + d]
        var keyByHead = new float[hidden * hidden];
        var valueByHead = new float[hidden * hidden];
        for (var i = 0; i < hidden; i++)
        {
            for (var n = 0; n < heads; n++)
            {
                for (var d = 0; d < size; d++)
                {
                    var column = (n * size) + d;
                    keyByHead[(((n * size) + d) * hidden) + i] = wk[(i * hidden) + column] / block.Divisor;
                    valueByHead[(((n * hidden) + i) * size) + d] = wv[(i * hidden) + column];
                }
            }
        }
        rewrite.AddInitializer(TensorData.FromFloat32(P("key_by_head"), keyByHead, heads, size, hidden));
        rewrite.AddInitializer(TensorData.FromFloat32(P("value_by_head"), valueByHead, heads, hidden, size));
        rewrite.AddInitializer(TensorData.FromFloat32(P("value_bias"), bv, heads, 1, size));
        Shape(rewrite, "query_heads", 0, heads, 1, size);     // (B, 1, H) -> (B, N, 1, D): same memory order
        Shape(rewrite, "per_head", 0, heads, -1);             // (B, N, 1, X) -> (B, N, X)
        Shape(rewrite, "per_head_row", 0, heads, 1, -1);      // (B, N, X) -> (B, N, 1, X)
        Shape(rewrite, "row", 0, 1, hidden);                  // (B, N, 1, D) -> (B, 1, H): heads side by side, as the original merge

        var softmax = Node("Softmax", P("softmax"), block.Softmax.Domain, [P("masked")], [P("probabilities")]);
        softmax.Attribute.AddRange(block.Softmax.Attribute.Select(a => a.Clone()));
        // Both slices read values made before the block, so they can stand where the block's output did.
        return
        [
            ClsOnlyLastLayerPass.RowZero(rewrite, x, x0, axis: 1, "x0"),
            ClsOnlyLastLayerPass.RowZero(rewrite, block.AdditiveMask, P("mask_row0"), axis: 2, "mask"), // (B, 1, 1, S) stays; a per-query (B, 1, S, S) mask keeps row 0
            Node("MatMul", P("query"), "", [x0, block.Query.Weight], [P("query_raw")]),
            Node("Add", P("query_bias"), "", [P("query_raw"), block.Query.Bias], [P("query")]),
            Node("Reshape", P("query_heads"), "", [P("query"), P("query_heads_shape")], [P("query_heads")]),
            Node("MatMul", P("query_keys"), "", [P("query_heads"), P("key_by_head")], [P("query_keys4")]),            // (B, N, 1, H)
            Node("Reshape", P("query_keys3"), "", [P("query_keys4"), P("per_head_shape")], [P("query_keys")]),
            Node("Transpose", P("x_transposed"), "", [x], [P("x_t")], IntsAttribute("perm", 0, 2, 1)),
            Node("MatMul", P("scores"), "", [P("query_keys"), P("x_t")], [P("scores3")]),                            // (B, N, S)
            Node("Reshape", P("scores4"), "", [P("scores3"), P("per_head_row_shape")], [P("scores")]),
            Node("Add", P("mask_add"), "", [P("scores"), P("mask_row0")], [P("masked")]),
            softmax,
            Node("Reshape", P("probabilities3"), "", [P("probabilities"), P("per_head_shape")], [P("probabilities3")]),
            Node("MatMul", P("mixed"), "", [P("probabilities3"), x], [P("mixed3")]),                                 // (B, N, H) = Σⱼ pⱼ xⱼ
            Node("Reshape", P("mixed4"), "", [P("mixed3"), P("per_head_row_shape")], [P("mixed")]),
            Node("MatMul", P("context"), "", [P("mixed"), P("value_by_head")], [P("context_raw")]),                   // (B, N, 1, D)
            Node("Add", P("context_bias"), "", [P("context_raw"), P("value_bias")], [P("context")]),
            Node("Reshape", P("merge"), "", [P("context"), P("row_shape")], [block.Output.Output[0]]),
        ];
    }

    private static void Shape(GraphRewrite rewrite, string name, params long[] dims) =>
        rewrite.AddInitializer(TensorData.FromInt64(P($"{name}_shape"), dims, dims.Length));

    private static string P(string name) => Prefix + name;
}
