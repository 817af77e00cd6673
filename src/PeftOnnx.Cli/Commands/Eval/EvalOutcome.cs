using PeftOnnx.Runtime.Evaluation;

namespace PeftOnnx.Cli.Commands.Eval;

/// <summary>
/// What one `peftonnx eval` run found: every example with its predicted labels (one for single-label and zero-shot,
/// a set for multi-label) and the metrics, <see cref="Single"/> or <see cref="Multi"/>. The text, JSON and HTML
/// reports all read it.
/// </summary>
internal sealed record EvalOutcome(
    string ModelId,
    string Mode,
    IReadOnlyList<string> Labels,
    IReadOnlyList<LabelledExample> Examples,
    IReadOnlyList<IReadOnlyList<string>> Predicted,
    ClassificationMetrics? Single,
    MultiLabelMetrics? Multi,
    IReadOnlyList<float>? Thresholds)
{
    public bool IsMultiLabel => Multi is not null;

    public IReadOnlyList<LabelMetrics> PerLabel => Single?.PerLabel ?? Multi!.PerLabel;

    /// <summary>Rows gold, columns predicted (multi-label: see <see cref="MultiLabelMetrics.Confusion"/>).</summary>
    public int[][] Confusion => Single?.Confusion ?? Multi!.Confusion;

    public static EvalOutcome Compute(string modelId, string mode, IReadOnlyList<string> labels, IReadOnlyList<LabelledExample> examples, IReadOnlyList<IReadOnlyList<string>> predicted, IReadOnlyList<float>? thresholds, bool multiLabel) =>
        multiLabel
            ? new(modelId, mode, labels, examples, predicted, null, MultiLabelMetrics.Compute(labels, [.. examples.Select(e => (IReadOnlyCollection<string>)e.Labels!)], [.. predicted.Select(p => (IReadOnlyCollection<string>)p)]), thresholds)
            : new(modelId, mode, labels, examples, predicted, ClassificationMetrics.Compute(labels, [.. examples.Select(e => e.Label)], [.. predicted.Select(p => p[0])]), null, null);

    /// <summary>The off-diagonal cells with the most documents, each with up to <paramref name="examplesPerPair"/> of them.</summary>
    public IReadOnlyList<ConfusedPair> MostConfused(int pairs, int examplesPerPair)
    {
        var cells = new List<(int Gold, int Predicted, int Count)>();
        for (var g = 0; g < Labels.Count; g++)
        {
            for (var p = 0; p < Labels.Count; p++)
            {
                if (g != p && Confusion[g][p] > 0)
                    cells.Add((g, p, Confusion[g][p]));
            }
        }
        return [.. cells.OrderByDescending(c => c.Count).ThenBy(c => c.Gold).ThenBy(c => c.Predicted).Take(pairs)
            .Select(c => new ConfusedPair(Labels[c.Gold], Labels[c.Predicted], c.Count, [.. Documents(Labels[c.Gold], Labels[c.Predicted]).Take(examplesPerPair)]))];
    }

    /// <summary>Documents of gold label <paramref name="gold"/> predicted as <paramref name="predicted"/> (multi-label: gold missed, predicted wrongly added).</summary>
    private IEnumerable<LabelledExample> Documents(string gold, string predicted)
    {
        for (var i = 0; i < Examples.Count; i++)
        {
            var golds = Examples[i].Labels ?? [Examples[i].Label];
            if (golds.Contains(gold) && !golds.Contains(predicted) && Predicted[i].Contains(predicted) && !Predicted[i].Contains(gold))
                yield return Examples[i];
        }
    }
}

/// <summary>Documents of label <see cref="Gold"/> that the model labelled <see cref="Predicted"/>.</summary>
internal sealed record ConfusedPair(string Gold, string Predicted, int Count, IReadOnlyList<LabelledExample> Examples);
