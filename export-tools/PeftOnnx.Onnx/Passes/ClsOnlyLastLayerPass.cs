using Onnx;
using PeftOnnx.Onnx.Graph;
using PeftOnnx.Onnx.Passes.Fusions;
using PeftOnnx.Onnx.Passes.Patterns;
using static PeftOnnx.Onnx.Passes.Fusions.FusionPatterns;

namespace PeftOnnx.Onnx.Passes;

/// <summary>
/// A pooler head reads only h[:, 0] of the last layer, so the last layer computes only that row: its query, output
/// projection and feed-forward run on one token instead of S, and its keys and values are never formed. With x the
/// layer input, x₀ = x[:, 0:1], q = x₀Wq + bq and per head n:
/// <code>
///   scores = q·kⱼ / c = ((q Wkₙᵀ) / c) · xⱼ  (+ q·bk / c, the same for every j, which softmax cancels)
///   context = Σⱼ pⱼ vⱼ  = (Σⱼ pⱼ xⱼ) Wvₙ + bvₙ  (Σⱼ pⱼ = 1)
/// </code>
/// so the last layer costs two (B, N, S) x (B, S, H) products instead of 12 H x H GEMMs per token: about one
/// sixth of a 6-layer encoder. Exact up to float rounding. The rest of the layer must be per token (MatMul by a
/// constant, bias, residual, LayerNorm, activations), which the pass checks before changing anything; where the
/// graph does not have that shape (mean pooling, the hidden states as an output, a side-graph adapter on the
/// projections) it leaves the model alone and says why.
/// </summary>
public sealed class ClsOnlyLastLayerPass : IModelPass
{
    private const string Prefix = "cls_last_layer/";

    private static readonly HashSet<string> Elementwise = new(StringComparer.Ordinal)
    {
        "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sqrt", "Erf", "Tanh", "Relu", "Sigmoid", "Exp", "Neg", "Abs",
        "Reciprocal", "Identity", "Cast", "Gelu", "FastGelu", "BiasGelu", "LayerNormalization", "SkipLayerNormalization",
    };

    public string Name => "cls-only-last-layer";

    /// <summary>Rewrites the last layer when the graph allows it; the summary says what happened either way.</summary>
    public string Apply(ModelProto model) =>
        TryApply(model, out var reason) ? "last layer computes the [CLS] row only" : $"left as is: {reason}";

    /// <summary>True when the last layer was rewritten; otherwise the model is unchanged and <paramref name="reason"/> says why.</summary>
    public static bool TryApply(ModelProto model, out string reason)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph;
        var opset = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(1).Max();
        if (opset < 10)
        {
            reason = $"opset {opset} has no Slice with tensor inputs (10+)";
            return false;
        }
        var index = new GraphIndex(graph);
        var block = graph.Node.Where(n => n.OpType == "Softmax")
            .Select(s => SelfAttentionBlock.Match(index, s, out _))
            .LastOrDefault(b => b is not null);
        if (block is null)
        {
            reason = "no BERT self-attention block was found";
            return false;
        }
        if (!block.OnlyShapeReadersOutside(index))
        {
            reason = "a value inside the last attention block is used outside it";
            return false;
        }
        var tail = PerTokenTail(index, block, out reason);
        if (tail is null)
            return false;

        var rewrite = new GraphRewrite();
        var x = block.Input;
        var x0 = P("x0");
        foreach (var node in tail)
        {
            for (var i = 0; i < node.Input.Count; i++)
            {
                if (node.Input[i] == x)
                    node.Input[i] = x0; // the residual: only row 0 of the layer input survives
            }
        }
        rewrite.Replace(block.Nodes, block.Output, [.. ClsAttention(index, block, x0, rewrite)]);
        rewrite.Apply(graph);
        GraphRewrite.PruneDeadNodes(graph);
        // Their value infos say (B, S, H); the rows are now (B, 1, H).
        var resized = new HashSet<string>(tail.SelectMany(n => n.Output).Append(block.Output.Output[0]), StringComparer.Ordinal);
        foreach (var info in graph.ValueInfo.Where(v => resized.Contains(v.Name)).ToList())
            graph.ValueInfo.Remove(info);
        return true;
    }

    /// <summary>
    /// The nodes from the attention output to the row-0 readers (Gather(h, 0, axis=1)), or null when one of them is not
    /// per token or something other than a row-0 reader uses their values.
    /// </summary>
    private static List<NodeProto>? PerTokenTail(GraphIndex index, SelfAttentionBlock block, out string reason)
    {
        var tail = new List<NodeProto>();
        var seen = new HashSet<NodeProto>(ReferenceEqualityComparer.Instance);
        var values = new Queue<string>([block.Output.Output[0]]);
        var inTail = new HashSet<string>(StringComparer.Ordinal) { block.Output.Output[0] };
        var rowReaders = 0;
        while (values.TryDequeue(out var value))
        {
            if (index.GraphOutputs.Contains(value))
            {
                reason = $"'{value}' after the last attention block is a graph output (every row is needed)";
                return null;
            }
            foreach (var consumer in index.Consumers(value))
            {
                if (IsRowZeroReader(index, consumer, value))
                {
                    rowReaders++;
                    continue;
                }
                if (!seen.Add(consumer))
                    continue;
                if (!IsPerToken(index, consumer))
                {
                    reason = $"{GraphIndex.Describe(consumer)} ({consumer.OpType}) after the last attention block is not a per-token operation or reads all rows";
                    return null;
                }
                tail.Add(consumer);
                foreach (var output in consumer.Output.Where(o => o.Length > 0))
                {
                    if (inTail.Add(output))
                        values.Enqueue(output);
                }
            }
        }
        if (rowReaders == 0)
        {
            reason = "the last layer's output is not read at row 0 only (Gather(h, 0, axis=1), the pooler); mean pooling reads every row";
            return null;
        }
        foreach (var node in tail)
        {
            foreach (var input in node.Input.Where(i => i.Length > 0))
            {
                if (inTail.Contains(input) || input == block.Input || IsBroadcastConstant(index, node, input))
                    continue;
                reason = $"{GraphIndex.Describe(node)} after the last attention block reads '{input}', which is neither per token nor a constant";
                return null;
            }
        }
        reason = "";
        return tail;
    }

    /// <summary>Gather(h, 0, axis=1) with a scalar index: the pooler's h[:, 0].</summary>
    private static bool IsRowZeroReader(GraphIndex index, NodeProto node, string value) =>
        node.OpType == "Gather" && node.Input[0] == value
        && Ints(node, "axis") is [1]
        && Constant(index, node.Input[1]) is { Dims.Count: 0 } indices && TensorData.ToInt64(indices) is [0];

    private static bool IsPerToken(GraphIndex index, NodeProto node) => node.OpType switch
    {
        "MatMul" => index.Initializer(node.Input[1]) is { Dims.Count: 2 },
        "ReduceMean" => Ints(node, "keepdims") is null or [1] && ReduceAxes(index, node) is [-1] or [2],
        "LayerNormalization" or "SkipLayerNormalization" => Ints(node, "axis") is null or [-1] or [2],
        _ => Elementwise.Contains(node.OpType) && node.Domain is "" or "ai.onnx" or TransformerFusion.MicrosoftDomain,
    };

    private static long[]? ReduceAxes(GraphIndex index, NodeProto node) =>
        Ints(node, "axes") ?? (node.Input.Count > 1 && Constant(index, node.Input[1]) is { } axes ? TensorData.ToInt64(axes) : null);

    /// <summary>A constant that broadcasts along the hidden axis only: a scalar, a [H] vector, or a MatMul's [in, out] weight.</summary>
    private static bool IsBroadcastConstant(GraphIndex index, NodeProto node, string input) =>
        Constant(index, input) is { } constant
        && (constant.Dims.Count <= 1 || (node.OpType == "MatMul" && node.Input[1] == input && constant.Dims.Count == 2)
            || (node.OpType == "ReduceMean" && node.Input.Count > 1 && node.Input[1] == input));

    /// <summary>The attention block for query row 0 only; its output keeps the block's output name, now (B, 1, H).</summary>
    private static IEnumerable<NodeProto> ClsAttention(GraphIndex index, SelfAttentionBlock block, string x0, GraphRewrite rewrite)
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
            Slice(rewrite, x, x0, axis: 1, "x0"),
            Slice(rewrite, block.AdditiveMask, P("mask_row0"), axis: 2, "mask"), // (B, 1, 1, S) stays; a per-query (B, 1, S, S) mask keeps row 0
            Node("MatMul", P("query"), "", [x0, block.Query.Weight], [P("query_raw")]),
            Node("Add", P("query_bias"), "", [P("query_raw"), block.Query.Bias], [P("query")]),
            Node("Reshape", P("query_heads"), "", [P("query"), P("query_heads_shape")], [P("query_heads")]),
            Node("MatMul", P("query_keys"), "", [P("query_heads"), P("key_by_head")], [P("query_keys4")]),            // (B, N, 1, H)
            Node("Reshape", P("query_keys3"), "", [P("query_keys4"), P("per_head_shape")], [P("query_keys")]),
            Node("Transpose", P("x_transposed"), "", [x], [P("x_t")], new AttributeProto { Name = "perm", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 0, 2, 1 } }),
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

    /// <summary>output = input[..., 0:1, ...] along <paramref name="axis"/>.</summary>
    private static NodeProto Slice(GraphRewrite rewrite, string input, string output, long axis, string name)
    {
        rewrite.AddInitializer(TensorData.FromInt64(P($"{name}_start"), [0], 1));
        rewrite.AddInitializer(TensorData.FromInt64(P($"{name}_end"), [1], 1));
        rewrite.AddInitializer(TensorData.FromInt64(P($"{name}_axis"), [axis], 1));
        return Node("Slice", P($"{name}_slice"), "", [input, P($"{name}_start"), P($"{name}_end"), P($"{name}_axis")], [output]);
    }

    private static string P(string name) => Prefix + name;
}
