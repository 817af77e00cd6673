using PeftOnnx.Runtime.Evaluation;

namespace PeftOnnx.Runtime.Tests.Evaluation;

public sealed class ClassificationMetricsTests
{
    [Fact]
    public void Matches_scikit_learn_on_a_small_example()
    {
        // sklearn: accuracy_score = 0.5, f1_score(average="macro") = 0.4444..., labels a, b, c
        string[] gold = ["a", "a", "b", "b", "c", "c"];
        string[] predicted = ["a", "b", "b", "b", "a", "a"];
        var m = ClassificationMetrics.Compute(["a", "b", "c"], gold, predicted);

        Assert.Equal(0.5, m.Accuracy, 10);
        // a: P=1/3 R=1/2 F1=0.4; b: P=2/3 R=1 F1=0.8; c: 0
        Assert.Equal(0.4, m.PerLabel[0].F1, 10);
        Assert.Equal(0.8, m.PerLabel[1].F1, 10);
        Assert.Equal(0.0, m.PerLabel[2].F1, 10);
        Assert.Equal(0.4, m.MacroF1, 10);
        Assert.Equal([1, 1, 0], m.Confusion[0]);
        Assert.Equal([0, 2, 0], m.Confusion[1]);
        Assert.Equal([2, 0, 0], m.Confusion[2]);
        Assert.Equal(2, m.PerLabel[2].Support);
    }

    [Fact]
    public void Unknown_labels_are_named()
    {
        var error = Assert.Throws<ArgumentException>(() => ClassificationMetrics.Compute(["a", "b"], ["a", "z"], ["a", "b"]));
        Assert.Contains("'z'", error.Message);
    }

    [Fact]
    public void Length_mismatch_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.Compute(["a"], ["a"], []));
    }
}
