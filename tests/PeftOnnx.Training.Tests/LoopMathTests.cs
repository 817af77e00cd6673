using PeftOnnx.Training.TrainingLoop;

namespace PeftOnnx.Training.Tests;

/// <summary>The learning-rate schedule and the metrics, against hand-computed values.</summary>
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

    [Fact]
    public void Macro_f1_averages_per_class_f1()
    {
        // class 0: tp 2 fp 1 fn 0 -> 0.8; class 1: tp 1 fp 0 fn 1 -> 0.667; class 2: neither present nor predicted -> not averaged
        var m = ClassificationMetrics.Compute([0, 0, 0, 1], [0, 0, 1, 1], 3);
        Assert.Equal(0.75, m.Accuracy, 12);
        Assert.Equal((0.8 + 2.0 / 3) / 2, m.MacroF1, 12);
    }
}
