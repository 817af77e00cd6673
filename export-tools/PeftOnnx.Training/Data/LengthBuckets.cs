namespace PeftOnnx.Training.Data;

/// <summary>
/// Orders examples into batches of similar length so padding (to the longest row of each batch) stays small:
/// training shuffles, sorts within pools of 50 batches, then shuffles the batches; evaluation sorts by length.
/// </summary>
public static class LengthBuckets
{
    private const int PoolBatches = 50;

    public static List<int[]> ForTraining(IReadOnlyList<TokenizedExample> examples, int batchSize, Random random)
    {
        if (batchSize <= 0)
            throw new ArgumentException($"the batch size should be positive, got {batchSize}.");
        var order = Enumerable.Range(0, examples.Count).ToArray();
        random.Shuffle(order);
        var batches = new List<int[]>();
        foreach (var pool in order.Chunk(batchSize * PoolBatches))
        {
            var sorted = pool.OrderBy(i => examples[i].Length).ToArray();
            batches.AddRange(sorted.Chunk(batchSize));
        }
        var shuffled = batches.ToArray();
        random.Shuffle(shuffled);
        return [.. shuffled];
    }

    public static List<int[]> ForEvaluation(IReadOnlyList<TokenizedExample> examples, int batchSize) =>
        [.. Enumerable.Range(0, examples.Count).OrderBy(i => examples[i].Length).Chunk(batchSize)];
}
