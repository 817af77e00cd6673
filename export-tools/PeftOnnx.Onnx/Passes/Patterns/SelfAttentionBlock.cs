using Onnx;
using PeftOnnx.Onnx.Graph;
using static PeftOnnx.Onnx.Passes.Fusions.FusionPatterns;

namespace PeftOnnx.Onnx.Passes.Patterns;

/// <summary>One Q, K or V projection: MatMul(x, W) + b -> Reshape(B, S, N, D) -> Transpose; <see cref="Nodes"/> in that order.</summary>
public sealed record AttentionProjection(string Input, string Weight, string Bias, NodeProto Reshape, NodeProto[] Nodes);

/// <summary>
/// BERT self-attention as torch exports it:
/// <code>
///   x ─ MatMul(Wq) ─ Add(bq) ─ Reshape(B,S,N,D) ─ Transpose(0,2,1,3) ─┐
///   x ─ MatMul(Wk) ─ Add(bk) ─ Reshape(B,S,N,D) ─ Transpose(0,2,3,1) ─ MatMul ─ Div(√D) ─ Add(mask) ─ Softmax ─┐
///   x ─ MatMul(Wv) ─ Add(bv) ─ Reshape(B,S,N,D) ─ Transpose(0,2,1,3) ───────────────────────────────────────── MatMul
///       ─ Transpose(0,2,1,3) ─ Reshape(B,S,H) ─ y
/// </code>
/// Matched from its Softmax. The fusions and the [CLS]-only last layer rewrite both start from this match.
/// </summary>
public sealed record SelfAttentionBlock(
    AttentionProjection Query,
    AttentionProjection Key,
    AttentionProjection Value,
    NodeProto Scores,
    NodeProto Scale,
    float Divisor,
    NodeProto MaskAdd,
    string AdditiveMask,
    NodeProto Softmax,
    NodeProto Context,
    NodeProto Merge,
    NodeProto Output,
    long Heads,
    long HeadSize)
{
    /// <summary>x, the hidden states all three projections read.</summary>
    public string Input => Query.Input;

    /// <summary>Every matched node except <see cref="Output"/> (the anchor a rewrite replaces last).</summary>
    public NodeProto[] Nodes => [.. Query.Nodes, .. Key.Nodes, .. Value.Nodes, Scores, Scale, MaskAdd, Softmax, Context, Merge];

    /// <summary>The block around <paramref name="softmax"/>, or null with the reason it does not match.</summary>
    public static SelfAttentionBlock? Match(GraphIndex index, NodeProto softmax, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(softmax);
        if (AttentionCore.Match(index, softmax, out reason) is not { } core)
            return null;
        if (core.ExtraContext is not null)
        {
            reason = "a second attention's context is added before the heads merge (gated prompts)";
            return null;
        }
        var (scale, maskAdd, qk, context, merge, output) = (core.Scale, core.MaskAdd, core.Scores, core.Context, core.Merge, core.Output);
        var q = Projection(index, qk, 0, [0, 2, 1, 3]);
        var k = Projection(index, qk, 1, [0, 2, 3, 1]);
        var v = Projection(index, context, 1, [0, 2, 1, 3]);
        if (q is null || k is null || v is null)
        {
            reason = "a Q/K/V projection is not MatMul(x, W) + b -> Reshape -> Transpose (an adapter side-graph?)";
            return null;
        }
        if (q.Input != k.Input || q.Input != v.Input)
        {
            reason = $"Q, K and V read different inputs ({q.Input}, {k.Input}, {v.Input})";
            return null;
        }
        var heads = HeadShape(index, q.Reshape);
        var divisor = Scalar(index, scale.Input[1]);
        var hidden = index.Initializer(q.Weight)!.Dims[1];
        if (heads is not { } shape || shape.Heads * shape.HeadSize != hidden || divisor is not > 0f)
        {
            reason = $"head count/size cannot be read from the Q reshape (hidden {hidden}) or the score scale is not a positive constant";
            return null;
        }
        reason = null;
        return new SelfAttentionBlock(q, k, v, qk, scale, divisor.Value, maskAdd, core.AdditiveMask, softmax, context, merge, output, shape.Heads, shape.HeadSize);
    }

    /// <summary>True when values made inside the block are read outside it only by Shape and Reshape nodes (the dynamic reshape arithmetic that dies with it).</summary>
    public bool OnlyShapeReadersOutside(GraphIndex index)
    {
        ArgumentNullException.ThrowIfNull(index);
        var matched = Nodes;
        var inside = new HashSet<NodeProto>(matched, ReferenceEqualityComparer.Instance);
        foreach (var node in matched)
        {
            foreach (var value in node.Output)
            {
                if (index.GraphOutputs.Contains(value))
                    return false;
                if (index.Consumers(value).Any(c => !inside.Contains(c) && c.OpType != "Shape" && c.OpType != "Reshape"))
                    return false;
            }
        }
        return true;
    }

    /// <summary>MatMul(x, W) + b -> Reshape -> Transpose(perm), feeding input <paramref name="inputIndex"/> of <paramref name="consumer"/>.</summary>
    private static AttentionProjection? Projection(GraphIndex index, NodeProto consumer, int inputIndex, long[] perm)
    {
        var path = MatchParentPath(index, consumer, ["Transpose", "Reshape", "Add"], [inputIndex, 0, 0]);
        if (path is null || !SameOrder(path[0], perm))
            return null;
        var add = path[2];
        if (SplitConstant(index, add) is not { } split || index.Producer(split.Other) is not { OpType: "MatMul" } matMul)
            return null;
        var weight = matMul.Input[1];
        if (index.Initializer(weight) is not { Dims.Count: 2 } || index.Initializer(split.Constant) is not { Dims.Count: 1 })
            return null;
        return new AttentionProjection(matMul.Input[0], weight, split.Constant, path[1], [matMul, add, path[1], path[0]]);
    }

    internal static bool SameOrder(NodeProto transpose, long[] perm) => Ints(transpose, "perm") is { } actual && actual.SequenceEqual(perm);

    /// <summary>(heads, head size) from the Q reshape's target shape: a constant, or a Concat whose last two parts are constants.</summary>
    private static (long Heads, long HeadSize)? HeadShape(GraphIndex index, NodeProto reshape)
    {
        if (Constant(index, reshape.Input[1]) is { } constant && TensorData.ToInt64(constant) is [_, _, var n, var d])
            return (n, d);
        if (index.Producer(reshape.Input[1]) is { OpType: "Concat", Input.Count: 4 } concat
            && Constant(index, concat.Input[2]) is { } heads && Constant(index, concat.Input[3]) is { } size
            && TensorData.ToInt64(heads) is [var h] && TensorData.ToInt64(size) is [var s])
            return (h, s);
        return null;
    }
}
