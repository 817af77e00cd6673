using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Runtime.Adapters;

/// <summary>Row-major int64 [batch, sequence] model inputs: from a <see cref="TokenBatch"/> or from stored tensors (goldens, benchmarks).</summary>
public sealed record SideInputs(long[] InputIds, long[] AttentionMask, long[] TokenTypeIds, int BatchSize, int SequenceLength)
{
    public static SideInputs From(TokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return new SideInputs(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds, batch.BatchSize, batch.SequenceLength);
    }

    /// <summary>Rows <paramref name="rows"/> of this batch, in that order.</summary>
    public SideInputs Rows(IReadOnlyList<int> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var n = SequenceLength;
        long[] Pick(long[] source)
        {
            var result = new long[rows.Count * n];
            for (var i = 0; i < rows.Count; i++)
                Array.Copy(source, (long)rows[i] * n, result, (long)i * n, n);
            return result;
        }
        return new SideInputs(Pick(InputIds), Pick(AttentionMask), Pick(TokenTypeIds), rows.Count, n);
    }
}
