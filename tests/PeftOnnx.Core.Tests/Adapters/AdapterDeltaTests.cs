using PeftOnnx.Core.Adapters.Ia3;
using PeftOnnx.Core.Adapters.Lora;
using PeftOnnx.Core.Numerics;

namespace PeftOnnx.Core.Tests.Adapters;

/// <summary>The three merge formulas on matrices small enough to check by hand.</summary>
public sealed class AdapterDeltaTests
{
    private static Matrix64 M(int rows, int cols, params double[] values) => new(rows, cols, values);

    [Fact]
    public void Lora_delta_is_scale_times_B_A()
    {
        var a = M(1, 2, 1, 2);    // [r=1, in=2]
        var b = M(2, 1, 3, 4);    // [out=2, r=1]
        var delta = LoraDelta.Compute(a, b, scale: 0.5);
        Assert.Equal((2, 2), (delta.Rows, delta.Cols));
        Assert.Equal([1.5, 3, 2, 4], delta.Data); // 0.5 * [[3, 6], [4, 8]]
    }

    [Fact]
    public void Lora_delta_with_rank_two()
    {
        var a = M(2, 3, 1, 0, 2, 0, 1, 1);   // [2, 3]
        var b = M(1, 2, 2, 3);               // [1, 2]
        Assert.Equal([2, 3, 7], LoraDelta.Compute(a, b, 1).Data); // [2*1+3*0, 2*0+3*1, 2*2+3*1]
    }

    [Fact]
    public void Fan_in_fan_out_transposes_the_delta()
    {
        var delta = LoraDelta.Compute(M(1, 2, 1, 2), M(3, 1, 1, 2, 3), 1, fanInFanOut: true);
        Assert.Equal((2, 3), (delta.Rows, delta.Cols));
        Assert.Equal([1, 2, 3, 2, 4, 6], delta.Data);
    }

    [Fact]
    public void Rank_mismatch_shows_both_shapes()
    {
        var e = Assert.Throws<ArgumentException>(() => LoraDelta.Compute(M(2, 2, 1, 2, 3, 4), M(2, 1, 1, 1), 1));
        Assert.Contains("[2, 1]", e.Message);
        Assert.Contains("[2, 2]", e.Message);
    }

    [Fact]
    public void Dora_normalises_each_output_row_of_W_plus_delta()
    {
        var w = M(2, 2, 1, 0, 0, 1);
        var a = M(1, 2, 1, 1);       // ΔW = [[1, 1], [0, 0]]
        var b = M(2, 1, 1, 0);
        // V = [[2, 1], [0, 1]], row norms [√5, 1]; m = [√5, 3] -> W' = [[2, 1], [0, 3]]
        var merged = DoraMerge.Merge(w, a, b, scale: 1, [Math.Sqrt(5), 3]);
        Assert.Equal(2, merged[0, 0], 12);
        Assert.Equal(1, merged[0, 1], 12);
        Assert.Equal(0, merged[1, 0], 12);
        Assert.Equal(3, merged[1, 1], 12);
    }

    [Fact]
    public void Dora_norm_is_per_output_row_not_per_input_column()
    {
        var w = M(2, 2, 3, 4, 0, 1);   // row norms 5 and 1; column norms 3 and √17
        var zero = M(1, 2, 0, 0);
        var merged = DoraMerge.Merge(w, zero, M(2, 1, 0, 0), 1, [10, 2]);
        Assert.Equal([6, 8, 0, 2], merged.Data.Select(x => Math.Round(x, 12)));
    }

    [Fact]
    public void Ia3_output_vector_scales_rows_and_bias()
    {
        var merged = Ia3Merge.Merge(M(2, 3, 1, 1, 1, 1, 1, 1), [10, 20], M(2, 1, 2, 3));
        Assert.Equal([2, 2, 2, 3, 3, 3], merged.Weight.Data);
        Assert.Equal([20, 60], merged.Bias!);
    }

    [Fact]
    public void Ia3_feedforward_vector_scales_columns_and_keeps_bias()
    {
        var merged = Ia3Merge.Merge(M(2, 3, 1, 1, 1, 1, 1, 1), [10, 20], M(1, 3, 1, 2, 3));
        Assert.Equal([1, 2, 3, 1, 2, 3], merged.Weight.Data);
        Assert.Equal([10, 20], merged.Bias!);
    }

    [Fact]
    public void Ia3_vector_of_the_wrong_length_shows_both_shapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Ia3Merge.Merge(M(2, 3, 1, 1, 1, 1, 1, 1), null, M(4, 1, 1, 1, 1, 1)));
        Assert.Contains("[4, 1]", e.Message);
        Assert.Contains("[2, 3]", e.Message);
    }
}
