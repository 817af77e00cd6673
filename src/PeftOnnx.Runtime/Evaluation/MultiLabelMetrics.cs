namespace PeftOnnx.Runtime.Evaluation;

/// <summary>
/// Metrics of a multi-label classifier (each document has a set of labels, possibly empty): subset accuracy (the
/// predicted set equals the gold set), micro precision/recall/F1 (over all label decisions), macro-F1 and per-label
/// precision/recall/F1. The one definition used by the trainer (dev and test) and <c>peftonnx eval</c>.
/// </summary>
/// <remarks>
/// scikit-learn on indicator matrices with its defaults: <c>accuracy_score</c> is subset accuracy;
/// <c>f1_score(average="micro")</c> is 2·ΣTP / (2·ΣTP + ΣFP + ΣFN); <c>average="macro"</c> averages the F1 of
/// every label (a multi-label indicator has all its columns as labels), a label with no gold and no predicted
/// documents counting 0 (<c>zero_division</c>'s default). <see cref="Confusion"/>[g][p] counts, for g ≠ p, documents
/// where gold label g was missed while p was predicted wrongly (the labels mistaken for each other), and on the
/// diagonal each label's true positives.
/// </remarks>
public sealed record MultiLabelMetrics(
    IReadOnlyList<string> Labels,
    int Count,
    double SubsetAccuracy,
    double MicroPrecision,
    double MicroRecall,
    double MicroF1,
    double MacroF1,
    IReadOnlyList<LabelMetrics> PerLabel,
    int[][] Confusion)
{
    /// <summary>Metrics over label sets given by name; every name must be one of <paramref name="labels"/>.</summary>
    public static MultiLabelMetrics Compute(IReadOnlyList<string> labels, IReadOnlyList<IReadOnlyCollection<string>> gold, IReadOnlyList<IReadOnlyCollection<string>> predicted)
    {
        var index = labels.Select((label, i) => (label, i)).ToDictionary(p => p.label, p => p.i, StringComparer.Ordinal);
        int[] Ids(IReadOnlyCollection<string> names, int example, string what) => names
            .Select(n => index.TryGetValue(n, out var id) ? id : throw new ArgumentException($"{what} label '{n}' (example {example}) is not one of the model's labels: {string.Join(", ", labels)}."))
            .ToArray();
        return Compute(labels, gold.Select((g, i) => Ids(g, i, "Gold")).ToArray(), predicted.Select((p, i) => Ids(p, i, "Predicted")).ToArray());
    }

    /// <summary>Metrics over label-id sets (indices into <paramref name="labels"/>).</summary>
    public static MultiLabelMetrics Compute(IReadOnlyList<string> labels, IReadOnlyList<IReadOnlyList<int>> gold, IReadOnlyList<IReadOnlyList<int>> predicted)
    {
        if (gold.Count != predicted.Count)
            throw new ArgumentException($"{gold.Count} gold label sets but {predicted.Count} predictions.", nameof(predicted));
        if (gold.Count == 0)
            throw new ArgumentException("Cannot compute metrics over zero examples.", nameof(gold));
        var confusion = labels.Select(_ => new int[labels.Count]).ToArray();
        var support = new int[labels.Count];
        var predictedCount = new int[labels.Count];
        var exact = 0;
        for (var i = 0; i < gold.Count; i++)
        {
            var g = Set(gold[i], labels.Count, i, "Gold");
            var p = Set(predicted[i], labels.Count, i, "Predicted");
            if (g.SetEquals(p))
                exact++;
            foreach (var l in g)
                support[l]++;
            foreach (var l in p)
                predictedCount[l]++;
            foreach (var l in g.Intersect(p))
                confusion[l][l]++;
            foreach (var missed in g.Except(p))
            {
                foreach (var wrong in p.Except(g))
                    confusion[missed][wrong]++;
            }
        }
        var perLabel = new List<LabelMetrics>(labels.Count);
        for (var l = 0; l < labels.Count; l++)
        {
            var tp = confusion[l][l];
            var precision = predictedCount[l] == 0 ? 0 : (double)tp / predictedCount[l];
            var recall = support[l] == 0 ? 0 : (double)tp / support[l];
            var f1 = support[l] + predictedCount[l] == 0 ? 0 : 2.0 * tp / (support[l] + predictedCount[l]);
            perLabel.Add(new LabelMetrics(labels[l], precision, recall, f1, support[l], predictedCount[l]));
        }
        var truePositives = Enumerable.Range(0, labels.Count).Sum(l => confusion[l][l]);
        var (goldTotal, predictedTotal) = (support.Sum(), predictedCount.Sum());
        return new MultiLabelMetrics(
            labels,
            gold.Count,
            (double)exact / gold.Count,
            predictedTotal == 0 ? 0 : (double)truePositives / predictedTotal,
            goldTotal == 0 ? 0 : (double)truePositives / goldTotal,
            goldTotal + predictedTotal == 0 ? 0 : 2.0 * truePositives / (goldTotal + predictedTotal),
            perLabel.Average(m => m.F1),
            perLabel,
            confusion);
    }

    private static HashSet<int> Set(IReadOnlyList<int> ids, int labelCount, int example, string what)
    {
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)labelCount)
                throw new ArgumentException($"{what} label {id} (example {example}) is outside 0..{labelCount - 1}.");
        }
        return [.. ids];
    }
}
