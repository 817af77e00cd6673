using PeftOnnx.Core.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Arithmetic;

/// <summary>
/// A weight delta [out, in] re-factorised as LoRA: ΔW ≈ B·A with B = U[:, :r]·diag(S[:r]) [out, r] and A = Vh[:r] [r, in]
/// (PEFT's <c>_svd_generalized_task_arithmetic_weighted_adapter</c>, after kohya-ss' svd_merge_lora), from
/// torch.linalg.svd in float64. Optionally clamped as PEFT's <c>svd_clamp</c>: both factors to ±(the clamp-quantile of
/// their values together).
/// </summary>
public static class TruncatedSvd
{
    /// <param name="delta">ΔW, [out, in].</param>
    /// <param name="rank">1 ≤ r ≤ min(out, in).</param>
    /// <param name="clamp">The quantile in [0, 1] to clamp at, or null.</param>
    public static LowRankFactors Factorize(Matrix64 delta, int rank, double? clamp = null)
    {
        ArgumentNullException.ThrowIfNull(delta);
        var max = Math.Min(delta.Rows, delta.Cols);
        if (rank < 1 || rank > max)
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"the rank must be in 1..{max} (min of ΔW {delta.Shape}).");
        using var scope = NewDisposeScope();
        using var d = tensor(delta.Data, [delta.Rows, delta.Cols], ScalarType.Float64);
        // One thread: the SVD of a 384-wide matrix takes milliseconds alone, while a two-thread SVD on the shared,
        // oversubscribed 2-core machine did not finish in 15 minutes (LAPACK's OpenMP workers spin for each other).
        var threads = torch.get_num_threads();
        torch.set_num_threads(1);
        Tensor u, s, vh;
        try
        {
            (u, s, vh) = linalg.svd(d, fullMatrices: false); // (out, k), (k), (k, in); k = min(out, in), S descending
        }
        finally
        {
            torch.set_num_threads(threads);
        }
        var singular = s.data<double>().ToArray();
        var b = u.narrow(1, 0, rank).mul(s.narrow(0, 0, rank).unsqueeze(0)).contiguous().data<double>().ToArray(); // (out, r)
        var a = vh.narrow(0, 0, rank).contiguous().data<double>().ToArray(); // (r, in)
        if (clamp is { } q)
        {
            var high = Quantile([.. b, .. a], q);
            for (var i = 0; i < b.Length; i++)
                b[i] = Math.Clamp(b[i], -high, high);
            for (var i = 0; i < a.Length; i++)
                a[i] = Math.Clamp(a[i], -high, high);
        }
        return new LowRankFactors(new Matrix64(rank, delta.Cols, a), new Matrix64(delta.Rows, rank, b), singular);
    }

    /// <summary>torch.quantile's default ("linear"): sorted[q·(n-1)], interpolated between its neighbours.</summary>
    internal static double Quantile(double[] values, double q)
    {
        if (q is < 0 or > 1 || double.IsNaN(q))
            throw new ArgumentOutOfRangeException(nameof(q), q, "the clamp quantile must be in [0, 1].");
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        var position = q * (sorted.Length - 1);
        var low = (int)Math.Floor(position);
        var high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + ((position - low) * (sorted[high] - sorted[low]));
    }
}

/// <summary>B·A approximating a delta, and every singular value of the delta (descending) for the energy report.</summary>
/// <param name="A">[r, in].</param>
/// <param name="B">[out, r].</param>
public sealed record LowRankFactors(Matrix64 A, Matrix64 B, double[] SingularValues)
{
    public int Rank => A.Rows;

    /// <summary>Σ kept σ² / Σ σ²: the share of ΔW's squared Frobenius norm the rank-r factors keep (1 for a zero delta).</summary>
    public double EnergyKept
    {
        get
        {
            var total = SingularValues.Sum(v => v * v);
            return total == 0 ? 1 : SingularValues.Take(Rank).Sum(v => v * v) / total;
        }
    }
}
