namespace PeftOnnx.Training.TrainingLoop;

/// <summary>
/// Per-label decision thresholds for a multi-label classifier, tuned on dev: for each label the threshold that
/// maximises that label's F1 (a document gets the label when its probability is at least the threshold).
/// </summary>
public static class ThresholdTuning
{
    /// <summary>Used for a label with no positive dev document, where F1 cannot choose.</summary>
    public const float Default = 0.5f;

    /// <param name="probabilities">(documents, labels) sigmoid outputs.</param>
    /// <param name="gold">Each document's gold label ids.</param>
    /// <returns>One threshold per label, midway between the lowest probability kept and the highest one left out.</returns>
    public static float[] Tune(IReadOnlyList<float[]> probabilities, IReadOnlyList<IReadOnlyList<int>> gold, int labelCount)
    {
        if (probabilities.Count != gold.Count)
            throw new ArgumentException($"{probabilities.Count} probability rows but {gold.Count} gold label sets.", nameof(gold));
        var thresholds = new float[labelCount];
        for (var label = 0; label < labelCount; label++)
        {
            var scored = probabilities.Select((row, i) => (Probability: row[label], Positive: gold[i].Contains(label)))
                .OrderByDescending(x => x.Probability)
                .ToArray();
            thresholds[label] = Best(scored);
        }
        return thresholds;
    }

    private static float Best((float Probability, bool Positive)[] scored)
    {
        var positives = scored.Count(x => x.Positive);
        if (positives == 0)
            return Default;
        var (bestF1, bestThreshold) = (-1.0, Default);
        var truePositives = 0;
        for (var k = 0; k < scored.Length; k++)
        {
            if (scored[k].Positive)
                truePositives++;
            // Cut only between distinct probabilities: documents with equal scores are kept or left out together.
            var next = k + 1 < scored.Length ? scored[k + 1].Probability : 0f;
            if (k + 1 < scored.Length && next == scored[k].Probability)
                continue;
            var f1 = 2.0 * truePositives / (k + 1 + positives);
            if (f1 > bestF1)
                (bestF1, bestThreshold) = (f1, (scored[k].Probability + next) / 2);
        }
        return bestThreshold;
    }
}
