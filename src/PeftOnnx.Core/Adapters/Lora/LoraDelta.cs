using PeftOnnx.Core.Numerics;

namespace PeftOnnx.Core.Adapters.Lora;

/// <summary>
/// The LoRA update ΔW = scale · B·A (PEFT's <c>get_delta_weight</c>), in float64. The trainer, the exporter and the
/// tests all call this one function.
/// </summary>
public static class LoraDelta
{
    /// <param name="a">lora_A.weight, [r, in].</param>
    /// <param name="b">lora_B.weight, [out, r].</param>
    /// <param name="scale">alpha / r, or alpha / sqrt(r) with rsLoRA.</param>
    /// <param name="fanInFanOut">True when the base weight is stored [in, out]; the delta is then transposed to match.</param>
    /// <returns>ΔW in the base weight's layout: [out, in] (torch Linear), or [in, out] with fan_in_fan_out.</returns>
    public static Matrix64 Compute(Matrix64 a, Matrix64 b, double scale, bool fanInFanOut = false)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (b.Cols != a.Rows)
            throw new ArgumentException($"lora_B {b.Shape} and lora_A {a.Shape} disagree on the rank ({b.Cols} vs {a.Rows}).", nameof(b));
        var delta = b.Multiply(a); // [out, r] @ [r, in] -> [out, in]
        var d = delta.Data;
        for (var i = 0; i < d.Length; i++)
            d[i] *= scale;
        return fanInFanOut ? delta.Transpose() : delta;
    }
}
