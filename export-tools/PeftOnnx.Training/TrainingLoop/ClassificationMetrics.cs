namespace PeftOnnx.Training.TrainingLoop;

/// <summary>Accuracy and macro-averaged F1: the mean of per-class F1 over the classes that occur in the labels or the predictions (scikit-learn's f1_score(average="macro")).</summary>
public sealed record ClassificationMetrics(double Accuracy, double MacroF1, int Count)
{
    public static ClassificationMetrics Compute(IReadOnlyList<int> predicted, IReadOnlyList<int> expected, int numLabels)
    {
        if (predicted.Count != expected.Count)
            throw new ArgumentException($"{predicted.Count} predictions for {expected.Count} labels.");
        if (expected.Count == 0)
            throw new ArgumentException("no examples to score.");
        var tp = new int[numLabels];
        var fp = new int[numLabels];
        var fn = new int[numLabels];
        var correct = 0;
        for (var i = 0; i < expected.Count; i++)
        {
            if (predicted[i] == expected[i])
            {
                correct++;
                tp[expected[i]]++;
            }
            else
            {
                fp[predicted[i]]++;
                fn[expected[i]]++;
            }
        }
        var f1 = 0.0;
        var classes = 0;
        for (var c = 0; c < numLabels; c++)
        {
            var denominator = 2 * tp[c] + fp[c] + fn[c];
            if (denominator == 0)
                continue;
            f1 += 2.0 * tp[c] / denominator;
            classes++;
        }
        return new ClassificationMetrics((double)correct / expected.Count, f1 / classes, expected.Count);
    }

    public double Get(string name) => name == "macro_f1" ? MacroF1 : Accuracy;
}
