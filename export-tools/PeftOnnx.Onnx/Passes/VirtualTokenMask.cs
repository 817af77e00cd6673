using Onnx;
using PeftOnnx.Onnx.Graph;
using static PeftOnnx.Onnx.Graph.OnnxNodes;

namespace PeftOnnx.Onnx.Passes;

/// <summary>
/// Shared step of prompt and prefix tuning: the attention mask gains <c>count</c> always-visible leading positions
/// (PEFT: concat(ones(B, P), attention_mask)), and the position-id slice moves.
/// </summary>
internal static class VirtualTokenMask
{
    /// <summary>Every existing reader of <paramref name="attentionMask"/> reads [ones(B, count), mask] (B, count + L).</summary>
    public static void Extend(PrefixedNodes nodes, string attentionMask, int count)
    {
        var shape = nodes.Node("Shape", "mask_shape", [attentionMask]);                                       // [2]
        var batch = nodes.Node("Slice", "mask_batch", [shape, nodes.Int64s("mask_zero", 0), nodes.Int64s("mask_one", 1)]); // [1] = B
        var onesShape = nodes.Node("Concat", "ones_shape", [batch, nodes.Int64s("count", count)], IntAttribute("axis", 0));
        var ones = nodes.Node("ConstantOfShape", "ones", [onesShape], TensorAttribute("value", TensorData.FromInt64("one_value", [1], 1))); // (B, count)
        var extended = nodes.Node("Concat", "attention_mask", [ones, attentionMask], IntAttribute("axis", 1)); // (B, count + L)
        nodes.Rewrite.Rewire(attentionMask, extended);
    }

    /// <summary>Shifts the position-id slice: [start + startShift, end + endShift).</summary>
    public static void ShiftPositions(PrefixedNodes nodes, NodeProto slice, long startShift, long endShift)
    {
        var shifted = nodes.Rewrite.Edit(slice);
        if (startShift != 0)
            shifted.Input[1] = nodes.Node("Add", "position_start", [slice.Input[1], nodes.Int64s("start_shift", startShift)]);
        if (endShift != 0)
            shifted.Input[2] = nodes.Node("Add", "position_end", [slice.Input[2], nodes.Int64s("end_shift", endShift)]);
    }
}
