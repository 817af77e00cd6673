namespace PeftOnnx.Runtime.Inference;

/// <summary>
/// Groups sequences of similar length into batches so each batch is padded only to its own longest row:
/// indices sorted by length (longest first, ties in input order), then cut into runs of at most
/// <c>batchSize</c>. With <c>minFill</c> a run also ends before a row shorter than that fraction of the run's longest
/// row: on a CPU a second small batch costs less than padding short rows to a long one (a micro-batch of a
/// 30-token and a 120-token text runs 150 tokens instead of 240).
/// </summary>
public static class LengthBuckets
{
    public static IReadOnlyList<int[]> Plan(IReadOnlyList<int> lengths, int batchSize, double minFill = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(minFill, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minFill, 1);
        var order = Enumerable.Range(0, lengths.Count).OrderByDescending(i => lengths[i]).ThenBy(i => i).ToArray();
        var batches = new List<int[]>((order.Length + batchSize - 1) / batchSize);
        var start = 0;
        for (var i = 1; i <= order.Length; i++)
        {
            if (i == order.Length || i - start == batchSize || lengths[order[i]] < minFill * lengths[order[start]])
            {
                batches.Add(order[start..i]);
                start = i;
            }
        }
        return batches;
    }

    /// <summary>Tokens a plan pads to (sum over batches of rows x longest row): the cost the plan minimises.</summary>
    public static long PaddedTokens(IReadOnlyList<int> lengths, IReadOnlyList<int[]> plan) =>
        plan.Sum(batch => (long)batch.Length * batch.Max(i => lengths[i]));
}
