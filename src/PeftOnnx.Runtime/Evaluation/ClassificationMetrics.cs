namespace PeftOnnx.Runtime.Evaluation;

/// <summary>
/// Accuracy, per-label precision/recall/F1, macro-F1 and the confusion matrix (rows: gold label, columns:
/// predicted label, both in <see cref="Labels"/> order). The one definition used by both the trainer (dev
/// metric that picks the checkpoint, test report) and <c>peftonnx eval</c>.
/// </summary>
/// <remarks>
/// Macro-F1 is scikit-learn's <c>f1_score(y_true, y_pred, average="macro")</c> with its defaults
/// (<c>labels=None</c>, <c>zero_division="warn"</c>): the unweighted mean of per-label F1 over the labels
/// that occur in the gold labels or the predictions (<c>unique_labels(y_true, y_pred)</c>); a label in
/// neither is not averaged. A counted label's F1 is 2·tp / (2·tp + fp + fn), which is never 0/0 for a
/// counted label; its precision (tp / predicted) or recall (tp / support) is 0 where the divisor is 0,
/// as zero_division's default gives. Per-label rows are reported for every label; a row with
/// <see cref="LabelMetrics.Support"/> and <see cref="LabelMetrics.Predicted"/> both 0 is not in the mean.
/// </remarks>
public sealed record ClassificationMetrics(
    IReadOnlyList<string> Labels,
    int Count,
    double Accuracy,
    double MacroF1,
    IReadOnlyList<LabelMetrics> PerLabel,
    int[][] Confusion)
{
    /// <summary>Metrics over labels given by name; every gold and predicted name must be one of <paramref name="labels"/>.</summary>
    public static ClassificationMetrics Compute(IReadOnlyList<string> labels, IReadOnlyList<string> gold, IReadOnlyList<string> predicted)
    {
        if (gold.Count != predicted.Count)
            throw new ArgumentException($"{gold.Count} gold labels but {predicted.Count} predictions.", nameof(predicted));
        var index = labels.Select((label, i) => (label, i)).ToDictionary(p => p.label, p => p.i, StringComparer.Ordinal);
        var goldIds = new int[gold.Count];
        var predictedIds = new int[predicted.Count];
        for (var i = 0; i < gold.Count; i++)
        {
            if (!index.TryGetValue(gold[i], out goldIds[i]))
                throw new ArgumentException($"Gold label '{gold[i]}' (example {i}) is not one of the model's labels: {string.Join(", ", labels)}.", nameof(gold));
            if (!index.TryGetValue(predicted[i], out predictedIds[i]))
                throw new ArgumentException($"Predicted label '{predicted[i]}' (example {i}) is not one of: {string.Join(", ", labels)}.", nameof(predicted));
        }
        return Compute(labels, goldIds, predictedIds);
    }

    /// <summary>Metrics over class indices into <paramref name="labels"/> (the trainer's integer labels).</summary>
    public static ClassificationMetrics Compute(IReadOnlyList<string> labels, IReadOnlyList<int> gold, IReadOnlyList<int> predicted)
    {
        if (gold.Count != predicted.Count)
            throw new ArgumentException($"{gold.Count} gold labels but {predicted.Count} predictions.", nameof(predicted));
        if (gold.Count == 0)
            throw new ArgumentException("Cannot compute metrics over zero examples.", nameof(gold));
        var confusion = labels.Select(_ => new int[labels.Count]).ToArray();
        var correct = 0;
        for (var i = 0; i < gold.Count; i++)
        {
            var (g, p) = (gold[i], predicted[i]);
            if ((uint)g >= (uint)labels.Count)
                throw new ArgumentException($"Gold class {g} (example {i}) is outside 0..{labels.Count - 1}.", nameof(gold));
            if ((uint)p >= (uint)labels.Count)
                throw new ArgumentException($"Predicted class {p} (example {i}) is outside 0..{labels.Count - 1}.", nameof(predicted));
            confusion[g][p]++;
            if (g == p)
                correct++;
        }

        var perLabel = new List<LabelMetrics>(labels.Count);
        for (var l = 0; l < labels.Count; l++)
        {
            var truePositives = confusion[l][l];
            var support = confusion[l].Sum();
            var predictedCount = confusion.Sum(row => row[l]);
            var precision = predictedCount == 0 ? 0 : (double)truePositives / predictedCount;
            var recall = support == 0 ? 0 : (double)truePositives / support;
            var f1 = support + predictedCount == 0 ? 0 : 2.0 * truePositives / (support + predictedCount);
            perLabel.Add(new LabelMetrics(labels[l], precision, recall, f1, support, predictedCount));
        }
        var macroF1 = perLabel.Where(m => m.Counted).Average(m => m.F1);
        return new ClassificationMetrics(labels, gold.Count, (double)correct / gold.Count, macroF1, perLabel, confusion);
    }
}

/// <summary>One label's row; <see cref="Predicted"/> is how many examples were predicted as this label.</summary>
public sealed record LabelMetrics(string Label, double Precision, double Recall, double F1, int Support, int Predicted)
{
    /// <summary>Whether the label occurs in the gold labels or the predictions, and so counts in macro-F1.</summary>
    public bool Counted => Support + Predicted > 0;
}
