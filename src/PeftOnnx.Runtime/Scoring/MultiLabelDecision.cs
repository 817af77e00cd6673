namespace PeftOnnx.Runtime.Scoring;

/// <summary>
/// A multi-label classifier's decision: one sigmoid probability per label, and every label whose probability
/// reaches its threshold (bundle.json "thresholds"; 0.5 where the bundle has none).
/// </summary>
public static class MultiLabelDecision
{
    public const float DefaultThreshold = 0.5f;

    /// <summary>Numerically stable logistic function, per label.</summary>
    public static float[] Sigmoid(ReadOnlySpan<float> logits)
    {
        var result = new float[logits.Length];
        for (var i = 0; i < logits.Length; i++)
        {
            var x = (double)logits[i];
            result[i] = (float)(x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x)));
        }
        return result;
    }

    /// <summary>
    /// The document's score: the most probable label with its probability (as for single-label), all probabilities,
    /// and the chosen labels, most probable first.
    /// </summary>
    public static TextScore Score(float[] probabilities, IReadOnlyList<string> labels, IReadOnlyList<float>? thresholds, int chunks, int tokens)
    {
        var order = Enumerable.Range(0, probabilities.Length).OrderByDescending(i => probabilities[i]).ThenBy(i => i).ToArray();
        var chosen = order.Where(i => probabilities[i] >= (thresholds?[i] ?? DefaultThreshold)).Select(i => labels[i]).ToArray();
        return new TextScore(labels[order[0]], probabilities[order[0]], probabilities, null, chunks, tokens) { PredictedLabels = chosen };
    }
}
