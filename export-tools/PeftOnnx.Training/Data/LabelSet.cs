namespace PeftOnnx.Training.Data;

/// <summary>The labels of a task in a fixed order (ordinal sort), so class ids are reproducible.</summary>
public sealed class LabelSet
{
    private readonly Dictionary<string, int> _ids;

    public LabelSet(IEnumerable<string> labels)
    {
        Names = labels.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        if (Names.Count < 2)
            throw new DatasetFormatException($"the training data has {Names.Count} label(s) ({string.Join(", ", Names)}); classification needs at least 2.");
        _ids = Names.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => x.i, StringComparer.Ordinal);
    }

    public IReadOnlyList<string> Names { get; }

    public int Count => Names.Count;

    public int IdOf(LabeledText row) => _ids.TryGetValue(row.Label, out var id)
        ? id
        : throw new DatasetFormatException($"{row.Source}: label '{row.Label}' does not occur in the training data (labels: {string.Join(", ", Names)}); fix the label or add training examples for it.");

    /// <summary>The class ids of a multi-label row, in label order.</summary>
    public int[] IdsOf(LabeledText row) => (row.Labels ?? throw new ArgumentException($"{row.Source} is not a multi-label row.", nameof(row)))
        .Select(label => _ids.TryGetValue(label, out var id)
            ? id
            : throw new DatasetFormatException($"{row.Source}: label '{label}' does not occur in the training data (labels: {string.Join(", ", Names)}); fix the label or add training examples for it."))
        .Order()
        .ToArray();

    /// <summary>Throws when <paramref name="rows"/> (dev or test data) use a label the training data lacks.</summary>
    public void RequireKnown(IEnumerable<LabeledText> rows, string what)
    {
        var unseen = rows.SelectMany(r => (r.Labels ?? [r.Label]).Select(label => (Label: label, Row: r)))
            .Where(x => !_ids.ContainsKey(x.Label))
            .GroupBy(x => x.Label, StringComparer.Ordinal)
            .ToList();
        if (unseen.Count > 0)
        {
            var first = unseen[0].First().Row;
            throw new DatasetFormatException($"{what} uses label(s) unseen in training: {string.Join(", ", unseen.Select(g => $"'{g.Key}' ({g.Count()}x)"))}, first at {first.Source}; add training examples for them or remove those rows.");
        }
    }
}
