using PeftOnnx.Runtime.Evaluation;

namespace PeftOnnx.Runtime.Tests.Evaluation;

public sealed class ClassificationMetricsTests
{
    [Fact]
    public void Matches_scikit_learn_on_a_small_example()
    {
        // accuracy 3/6; every label occurs in gold, so all three are averaged
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
    public void Macro_f1_averages_the_labels_in_gold_or_predictions_like_scikit_learn()
    {
        // By hand, F1 = 2tp / (2tp + fp + fn) over unique_labels(gold, predicted) = {a, b, c}:
        //   a: tp 1, fp 0, fn 1 -> 2/3 (P 1, R 1/2)
        //   b: tp 2, fp 1, fn 1 -> 4/6 (P 2/3, R 2/3)
        //   c: predicted once, never gold: tp 0, fp 1, fn 0 -> 0 (R is 0/0 -> 0, zero_division's default)
        //   d: in neither -> not averaged (f1_score(..., labels=[a, b, c, d]) would count it as 0: 1/3)
        // f1_score(gold, predicted, average="macro") = (2/3 + 2/3 + 0) / 3 = 4/9
        string[] labels = ["a", "b", "c", "d"];
        string[] gold = ["a", "a", "b", "b", "b"];
        string[] predicted = ["a", "b", "b", "c", "b"];
        var m = ClassificationMetrics.Compute(labels, gold, predicted);

        Assert.Equal(3.0 / 5, m.Accuracy, 12);
        Assert.Equal(4.0 / 9, m.MacroF1, 12);
        Assert.Equal(2.0 / 3, m.PerLabel[0].F1, 12);
        Assert.Equal(2.0 / 3, m.PerLabel[1].F1, 12);
        Assert.Equal(0.0, m.PerLabel[2].F1, 12);
        Assert.Equal(0.0, m.PerLabel[3].F1, 12);
        Assert.Equal(1.0, m.PerLabel[0].Precision, 12);
        Assert.Equal(0.5, m.PerLabel[0].Recall, 12);
        Assert.Equal(0.0, m.PerLabel[2].Recall, 12);
        Assert.Equal([true, true, true, false], m.PerLabel.Select(l => l.Counted).ToArray());

        // The trainer's integer labels go through the same definition.
        var byIndex = ClassificationMetrics.Compute(labels, [0, 0, 1, 1, 1], [0, 1, 1, 2, 1]);
        Assert.Equal(m.MacroF1, byIndex.MacroF1, 15);
        Assert.Equal(m.Accuracy, byIndex.Accuracy, 15);
    }

    [Fact]
    public void Class_indices_outside_the_labels_are_named()
    {
        var error = Assert.Throws<ArgumentException>(() => ClassificationMetrics.Compute(["a", "b"], [0, 1], [0, 2]));
        Assert.Contains("class 2", error.Message);
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
