using PeftOnnx.Runtime.Scoring;

namespace PeftOnnx.Runtime.Tests.Scoring;

public sealed class SoftmaxTests
{
    [Fact]
    public void Matches_the_closed_form_and_survives_large_logits()
    {
        var p = Softmax.Of([1f, 2f, 3f]);
        var z = Math.Exp(1) + Math.Exp(2) + Math.Exp(3);
        Assert.Equal(Math.Exp(3) / z, p[2], 6);
        var big = Softmax.Of([1000f, 1001f]);
        Assert.Equal(1 / (1 + Math.Exp(-1)), big[1], 6);
        Assert.DoesNotContain(big, float.IsNaN);
    }

    [Fact]
    public void Scale_sharpens_the_distribution()
    {
        var soft = Softmax.Of([0.2f, 0.4f]);
        var sharp = Softmax.Of([0.2f, 0.4f], 20f);
        Assert.True(sharp[1] > soft[1]);
        Assert.Equal(1 / (1 + Math.Exp(-4)), sharp[1], 5);
    }
}
