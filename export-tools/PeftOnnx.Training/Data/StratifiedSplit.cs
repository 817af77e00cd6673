namespace PeftOnnx.Training.Data;

/// <summary>A seeded, label-stratified train/dev split (for when no dev set is given).</summary>
public static class StratifiedSplit
{
    /// <summary>Takes round(fraction · n) of each label for dev (at least one when the label has two or more examples).</summary>
    public static (IReadOnlyList<LabeledText> Train, IReadOnlyList<LabeledText> Dev) Split(IReadOnlyList<LabeledText> rows, double devFraction, int seed)
    {
        if (devFraction is <= 0 or >= 1)
            throw new ArgumentException($"the dev fraction should be in (0, 1), got {devFraction}.");
        var random = new Random(seed);
        var train = new List<LabeledText>();
        var dev = new List<LabeledText>();
        foreach (var group in rows.GroupBy(r => r.Label, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var items = group.ToArray();
            random.Shuffle(items);
            var take = items.Length < 2 ? 0 : Math.Clamp((int)Math.Round(devFraction * items.Length), 1, items.Length - 1);
            dev.AddRange(items.Take(take));
            train.AddRange(items.Skip(take));
        }
        return (train, dev);
    }
}
