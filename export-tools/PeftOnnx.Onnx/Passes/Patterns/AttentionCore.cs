using Onnx;
using PeftOnnx.Onnx.Graph;
using static PeftOnnx.Onnx.Passes.Fusions.FusionPatterns;

namespace PeftOnnx.Onnx.Passes.Patterns;

/// <summary>
/// The head-wise part of self-attention, whatever computes Q, K and V (plain projections, LoRA side-graphs, prefix
/// concatenation):
/// <code>
///   MatMul(Qh, Kᵀ) ─ Div(c) ─ Add(mask) ─ Softmax ─ MatMul(·, Vh) ─ [Add(extra)] ─ Transpose(0,2,1,3) ─ Reshape(B,S,H) ─ y
/// </code>
/// <see cref="ExtraContext"/> is the Add of a second attention's context before the heads merge (gated prompts), or null.
/// </summary>
public sealed record AttentionCore(NodeProto Scores, NodeProto Scale, NodeProto MaskAdd, string AdditiveMask, NodeProto Softmax, NodeProto Context, NodeProto? ExtraContext, NodeProto Merge, NodeProto Output)
{
    /// <summary>The core around <paramref name="softmax"/>, or null with the reason it does not match.</summary>
    public static AttentionCore? Match(GraphIndex index, NodeProto softmax, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(softmax);
        var scores = MatchParentPath(index, softmax, ["Add", "Div", "MatMul"], [0, 0, 0]);
        var context = OnlyChild(index, softmax.Output[0], "MatMul");
        var extra = context is null ? null : OnlyChild(index, context.Output[0], "Add");
        var merge = context is null ? null : OnlyChild(index, (extra ?? context).Output[0], "Transpose");
        var output = merge is null ? null : Child(index, merge.Output[0], "Reshape");
        if (scores is null || context is null || merge is null || output is null)
        {
            reason = "not MatMul(q, k) / scale + mask -> Softmax -> MatMul(v) [-> Add] -> Transpose -> Reshape";
            return null;
        }
        if (!SelfAttentionBlock.SameOrder(merge, [0, 2, 1, 3]))
        {
            reason = "the context transpose is not (0, 2, 1, 3)";
            return null;
        }
        var (maskAdd, scale, qk) = (scores[0], scores[1], scores[2]);
        if (OtherInput(maskAdd, scale.Output[0]) is not { } additiveMask)
        {
            reason = "the mask Add does not add the scaled scores to a mask";
            return null;
        }
        reason = null;
        return new AttentionCore(qk, scale, maskAdd, additiveMask, softmax, context, extra, merge, output);
    }
}
