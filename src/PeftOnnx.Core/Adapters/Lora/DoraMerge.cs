using PeftOnnx.Core.Numerics;

namespace PeftOnnx.Core.Adapters.Lora;

/// <summary>
/// DoRA (PEFT 0.21 <c>DoraLinearLayer</c>) folded into the weight: V = W + s·B·A, n[o] = ‖V[o, :]‖₂ (one norm per
/// output row of the torch-layout weight), W' = (m / n)[:, None] · V. The bias is not scaled.
/// </summary>
public static class DoraMerge
{
    /// <param name="weight">Base weight W, [out, in] (torch layout).</param>
    /// <param name="a">lora_A.weight, [r, in].</param>
    /// <param name="b">lora_B.weight, [out, r].</param>
    /// <param name="scale">LoRA scaling s.</param>
    /// <param name="magnitude">lora_magnitude_vector m, [out].</param>
    /// <returns>The merged weight W', [out, in].</returns>
    public static Matrix64 Merge(Matrix64 weight, Matrix64 a, Matrix64 b, double scale, ReadOnlySpan<double> magnitude)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (magnitude.Length != weight.Rows)
            throw new ArgumentException($"lora_magnitude_vector has {magnitude.Length} values but the weight {weight.Shape} has {weight.Rows} output rows.", nameof(magnitude));
        var v = Directional(weight, a, b, scale);
        var norms = RowNorms(v);
        for (var o = 0; o < v.Rows; o++)
        {
            var factor = magnitude[o] / norms[o];
            var row = v.Data.AsSpan(o * v.Cols, v.Cols);
            for (var i = 0; i < row.Length; i++)
                row[i] *= factor;
        }
        return v;
    }

    /// <summary>V = W + s·B·A, [out, in].</summary>
    public static Matrix64 Directional(Matrix64 weight, Matrix64 a, Matrix64 b, double scale)
    {
        ArgumentNullException.ThrowIfNull(weight);
        var delta = LoraDelta.Compute(a, b, scale);
        if (delta.Rows != weight.Rows || delta.Cols != weight.Cols)
            throw new ArgumentException($"the LoRA delta {delta.Shape} does not fit the weight {weight.Shape}.", nameof(weight));
        var v = weight.Clone();
        for (var i = 0; i < v.Data.Length; i++)
            v.Data[i] += delta.Data[i];
        return v;
    }

    /// <summary>‖V[o, :]‖₂ for every output row o (torch.linalg.norm(V, dim=1)).</summary>
    public static double[] RowNorms(Matrix64 v)
    {
        ArgumentNullException.ThrowIfNull(v);
        var norms = new double[v.Rows];
        for (var o = 0; o < v.Rows; o++)
        {
            var sum = 0.0;
            foreach (var x in v.Data.AsSpan(o * v.Cols, v.Cols))
                sum += x * x;
            norms[o] = Math.Sqrt(sum);
        }
        return norms;
    }
}
