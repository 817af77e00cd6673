using PeftOnnx.Core.Numerics;

namespace PeftOnnx.Core.Adapters.Ia3;

/// <summary>
/// IA3 folded into a Linear layer (PEFT's <c>IA3Layer.merge</c>). The vector's shape says which side it scales:
/// [out, 1] scales the output, bias included (W' = l[:, None]·W, b' = l·b); [1, in] (feed-forward modules) scales
/// the input (W' = W·l[None, :], b' = b).
/// </summary>
public static class Ia3Merge
{
    /// <param name="weight">Base weight W, [out, in] (torch layout).</param>
    /// <param name="bias">Base bias b, [out], or null.</param>
    /// <param name="scaling">ia3_l, [out, 1] or [1, in].</param>
    /// <returns>The merged weight and bias.</returns>
    public static MergedLinear Merge(Matrix64 weight, double[]? bias, Matrix64 scaling)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(scaling);
        var merged = weight.Clone();
        if (scaling.Cols == 1 && scaling.Rows == weight.Rows)
        {
            for (var o = 0; o < weight.Rows; o++)
            {
                var row = merged.Data.AsSpan(o * weight.Cols, weight.Cols);
                foreach (ref var x in row)
                    x *= scaling.Data[o];
            }
            double[]? scaledBias = null;
            if (bias is not null)
            {
                scaledBias = new double[bias.Length];
                for (var o = 0; o < bias.Length; o++)
                    scaledBias[o] = bias[o] * scaling.Data[o];
            }
            return new MergedLinear(merged, scaledBias);
        }
        if (scaling.Rows == 1 && scaling.Cols == weight.Cols)
        {
            for (var o = 0; o < weight.Rows; o++)
            {
                var row = merged.Data.AsSpan(o * weight.Cols, weight.Cols);
                for (var i = 0; i < row.Length; i++)
                    row[i] *= scaling.Data[i];
            }
            return new MergedLinear(merged, bias is null ? null : (double[])bias.Clone());
        }
        throw new ArgumentException(
            $"ia3_l {scaling.Shape} fits neither the output ([{weight.Rows}, 1]) nor the input ([1, {weight.Cols}]) of the weight {weight.Shape}.",
            nameof(scaling));
    }
}
