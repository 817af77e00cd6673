using Onnx;
using PeftOnnx.Onnx.Graph;

namespace PeftOnnx.Onnx.Passes;

/// <summary>
/// Shared step of prompt and prefix tuning: the attention mask gains <c>count</c> always-visible leading positions
/// (PEFT: concat(ones(B, P), attention_mask)), and the position-id slice moves.
/// </summary>
internal static class VirtualTokenMask
{
    /// <summary>Every existing reader of <paramref name="attentionMask"/> reads [ones(B, count), mask] (B, count + L).</summary>
    public static void Extend(GraphPatch patch, string attentionMask, int count)
    {
        var shape = patch.Node("Shape", "mask_shape", [attentionMask]);                                       // [2]
        var batch = patch.Node("Slice", "mask_batch", [shape, patch.Int64s("mask_zero", 0), patch.Int64s("mask_one", 1)]); // [1] = B
        var onesShape = patch.Node("Concat", "ones_shape", [batch, patch.Int64s("count", count)], GraphPatch.IntAttribute("axis", 0));
        var ones = patch.Node("ConstantOfShape", "ones", [onesShape], new AttributeProto
        {
            Name = "value",
            Type = AttributeProto.Types.AttributeType.Tensor,
            T = TensorData.FromInt64("one_value", [1], 1),
        });                                                                                                      // (B, count)
        var extended = patch.Node("Concat", "attention_mask", [ones, attentionMask], GraphPatch.IntAttribute("axis", 1)); // (B, count + L)
        patch.Rewire(attentionMask, extended);
    }

    /// <summary>Shifts the position-id slice: [start + startShift, end + endShift).</summary>
    public static void ShiftPositions(GraphPatch patch, NodeProto slice, long startShift, long endShift)
    {
        if (startShift != 0)
            slice.Input[1] = patch.Node("Add", "position_start", [slice.Input[1], patch.Int64s("start_shift", startShift)]);
        if (endShift != 0)
            slice.Input[2] = patch.Node("Add", "position_end", [slice.Input[2], patch.Int64s("end_shift", endShift)]);
    }
}
