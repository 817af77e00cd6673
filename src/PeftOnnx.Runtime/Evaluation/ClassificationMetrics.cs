namespace PeftOnnx.Runtime.Evaluation;

/// <summary>
/// Accuracy, per-label precision/recall/F1, macro-F1 (unweighted mean over labels, scikit-learn's
/// f1_score(average="macro"), a label with no gold and no predicted example scores 0) and the confusion
/// matrix (rows: gold label, columns: predicted label, both in <see cref="Labels"/> order).
/// </summary>
public sealed record ClassificationMetrics(
    IReadOnlyList<string> Labels,
    int Count,
    double Accuracy,
    double MacroF1,
    IReadOnlyList<LabelMetrics> PerLabel,
    int[][] Confusion)
{
    public static ClassificationMetrics Compute(IReadOnlyList<string> labels, IReadOnlyList<string> gold, IReadOnlyList<string> predicted)
    {
        if (gold.Count != predicted.Count)
            throw new ArgumentException($"{gold.Count} gold labels but {predicted.Count} predictions.", nameof(predicted));
        if (gold.Count == 0)
            throw new ArgumentException("Cannot compute metrics over zero examples.", nameof(gold));
        var index = labels.Select((label, i) => (label, i)).ToDictionary(p => p.label, p => p.i, StringComparer.Ordinal);
        var confusion = labels.Select(_ => new int[labels.Count]).ToArray();
        var correct = 0;
        for (var i = 0; i < gold.Count; i++)
        {
            if (!index.TryGetValue(gold[i], out var g))
                throw new ArgumentException($"Gold label '{gold[i]}' (example {i}) is not one of the model's labels: {string.Join(", ", labels)}.", nameof(gold));
            if (!index.TryGetValue(predicted[i], out var p))
                throw new ArgumentException($"Predicted label '{predicted[i]}' (example {i}) is not one of: {string.Join(", ", labels)}.", nameof(predicted));
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
            var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            perLabel.Add(new LabelMetrics(labels[l], precision, recall, f1, support));
        }
        return new ClassificationMetrics(labels, gold.Count, (double)correct / gold.Count, perLabel.Average(m => m.F1), perLabel, confusion);
    }
}

public sealed record LabelMetrics(string Label, double Precision, double Recall, double F1, int Support);
