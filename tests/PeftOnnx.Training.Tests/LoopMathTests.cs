using PeftOnnx.Training.TrainingLoop;

namespace PeftOnnx.Training.Tests;

/// <summary>The learning-rate schedule against hand-computed values (the metrics are tested with ClassificationMetrics in Runtime.Tests).</summary>
public sealed class LoopMathTests
{
    [Fact]
    public void Schedule_warms_up_then_decays_to_zero_like_transformers()
    {
        var s = LinearWarmupSchedule.For(100, 0.06);
        Assert.Equal(6, s.WarmupSteps);
        Assert.Equal(0.0, s.Factor(0));
        Assert.Equal(3.0 / 6, s.Factor(3), 12);
        Assert.Equal(1.0, s.Factor(6));
        Assert.Equal(47.0 / 94, s.Factor(53), 12);
        Assert.Equal(0.0, s.Factor(100));
    }
}
