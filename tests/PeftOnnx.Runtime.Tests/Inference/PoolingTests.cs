using PeftOnnx.Runtime.Inference;

namespace PeftOnnx.Runtime.Tests.Inference;

public sealed class PoolingTests
{
    // (B=2, S=3, H=2)
    private static readonly float[] Hidden =
    [
        1, 2, 3, 4, 100, 100,
        5, 6, 7, 8, 9, 10,
    ];

    [Fact]
    public void Mean_ignores_masked_tokens()
    {
        long[] mask = [1, 1, 0, 1, 1, 1];
        var pooled = Pooling.Mean(Hidden, mask, 2, 3, 2);
        Assert.Equal(new float[] { 2, 3 }, pooled[0]);
        Assert.Equal(new float[] { 7, 8 }, pooled[1]);
    }

    [Fact]
    public void Mean_of_a_fully_masked_row_is_zero()
    {
        long[] mask = [0, 0, 0, 1, 0, 0];
        var pooled = Pooling.Mean(Hidden, mask, 2, 3, 2);
        Assert.Equal(new float[] { 0, 0 }, pooled[0]);
        Assert.Equal(new float[] { 5, 6 }, pooled[1]);
    }

    [Fact]
    public void Cls_takes_the_first_token_of_each_row()
    {
        var pooled = Pooling.Cls(Hidden, 2, 3, 2);
        Assert.Equal(new float[] { 1, 2 }, pooled[0]);
        Assert.Equal(new float[] { 5, 6 }, pooled[1]);
    }

    [Fact]
    public void L2Normalize_gives_unit_length_and_keeps_zero_vectors()
    {
        float[] v = [3, 4];
        Pooling.L2Normalize(v);
        Assert.Equal(0.6f, v[0], 6);
        Assert.Equal(0.8f, v[1], 6);
        float[] zero = [0, 0];
        Pooling.L2Normalize(zero);
        Assert.Equal(new float[] { 0, 0 }, zero);
    }

    [Fact]
    public void Shape_mismatch_names_the_expected_shape()
    {
        var error = Assert.Throws<ArgumentException>(() => Pooling.Mean(Hidden, new long[6], 2, 3, 3));
        Assert.Contains("(B=2, S=3, H=3) = 18", error.Message);
    }
}
