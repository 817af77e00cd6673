namespace PeftOnnx.Hosting.Outbox;

/// <summary>One label a multi-label classifier chose for a document, with its probability.</summary>
public sealed record LabelScore(string Label, float Score)
{
    /// <summary>The chosen labels of a score, most probable first; null when the model is not multi-label.</summary>
    public static IReadOnlyList<LabelScore>? Of(Runtime.Scoring.TextScore score, IReadOnlyList<string> labels) =>
        score.PredictedLabels?.Select(l => new LabelScore(l, score.Probabilities![IndexOf(labels, l)])).ToArray();

    private static int IndexOf(IReadOnlyList<string> labels, string label)
    {
        for (var i = 0; i < labels.Count; i++)
        {
            if (labels[i] == label)
                return i;
        }
        throw new ArgumentException($"label '{label}' is not one of the model's labels ({string.Join(", ", labels)}).", nameof(label));
    }
}
