namespace PeftOnnx.Runtime.Inference;

/// <summary>
/// Groups sequences of similar length into batches so each batch is padded only to its own longest row:
/// indices sorted by length (longest first, ties in input order), then cut into runs of at most
/// <c>batchSize</c>.
/// </summary>
public static class LengthBuckets
{
    public static IReadOnlyList<int[]> Plan(IReadOnlyList<int> lengths, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var order = Enumerable.Range(0, lengths.Count).OrderByDescending(i => lengths[i]).ThenBy(i => i).ToArray();
        var batches = new List<int[]>((order.Length + batchSize - 1) / batchSize);
        for (var start = 0; start < order.Length; start += batchSize)
            batches.Add(order[start..Math.Min(start + batchSize, order.Length)]);
        return batches;
    }

    /// <summary>Tokens a plan pads to (sum over batches of rows x longest row): the cost the plan minimises.</summary>
    public static long PaddedTokens(IReadOnlyList<int> lengths, IReadOnlyList<int[]> plan) =>
        plan.Sum(batch => (long)batch.Length * batch.Max(i => lengths[i]));
}
