namespace PeftOnnx.Runtime.Tokenization;

/// <summary>
/// Row-major [BatchSize, SequenceLength] int64 tensors for ONNX Runtime (input_ids, attention_mask,
/// token_type_ids), padded with the pad id to the longest row. Arrays supplied by the caller may be longer
/// than BatchSize * SequenceLength; the tensor is their first BatchSize * SequenceLength elements.
/// </summary>
public sealed class TokenBatch
{
    private TokenBatch(int batchSize, int sequenceLength, long[] inputIds, long[] attentionMask, long[] tokenTypeIds)
    {
        BatchSize = batchSize;
        SequenceLength = sequenceLength;
        InputIds = inputIds;
        AttentionMask = attentionMask;
        TokenTypeIds = tokenTypeIds;
    }

    public int BatchSize { get; }

    public int SequenceLength { get; }

    /// <summary>Token ids, pad id after each row's end.</summary>
    public long[] InputIds { get; }

    /// <summary>1 for real tokens, 0 for padding.</summary>
    public long[] AttentionMask { get; }

    /// <summary>All 0: single-sequence inputs.</summary>
    public long[] TokenTypeIds { get; }

    /// <summary>Number of tensor elements, BatchSize * SequenceLength.</summary>
    public int ElementCount => BatchSize * SequenceLength;

    /// <summary>The tensor shape, [BatchSize, SequenceLength].</summary>
    public long[] Shape => [BatchSize, SequenceLength];

    public static TokenBatch Create(IReadOnlyList<TokenizedText> rows, int padId) => Create(rows, padId, null, null, null);

    /// <summary>Builds the batch into the given arrays (each at least rows * longest row long), or new ones where null.</summary>
    public static TokenBatch Create(IReadOnlyList<TokenizedText> rows, int padId, long[]? inputIds, long[]? attentionMask, long[]? tokenTypeIds)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
            throw new ArgumentException("A batch needs at least one row; rows is empty.", nameof(rows));

        int sequenceLength = 0;
        foreach (var row in rows)
            sequenceLength = Math.Max(sequenceLength, row.Length);
        int size = checked(rows.Count * sequenceLength);
        inputIds = Buffer(inputIds, size, nameof(inputIds));
        attentionMask = Buffer(attentionMask, size, nameof(attentionMask));
        tokenTypeIds = Buffer(tokenTypeIds, size, nameof(tokenTypeIds));

        for (int r = 0; r < rows.Count; r++)
        {
            var ids = rows[r].Ids;
            var idsRow = inputIds.AsSpan(r * sequenceLength, sequenceLength);
            var maskRow = attentionMask.AsSpan(r * sequenceLength, sequenceLength);
            for (int t = 0; t < ids.Length; t++)
                idsRow[t] = ids[t];
            idsRow[ids.Length..].Fill(padId);
            maskRow[..ids.Length].Fill(1);
            maskRow[ids.Length..].Clear();
        }
        tokenTypeIds.AsSpan(0, size).Clear();
        return new TokenBatch(rows.Count, sequenceLength, inputIds, attentionMask, tokenTypeIds);
    }

    private static long[] Buffer(long[]? given, int size, string name)
    {
        if (given is null)
            return new long[size];
        if (given.Length < size)
            throw new ArgumentException($"{name} holds {given.Length} elements but the batch needs {size} (rows x longest row).", name);
        return given;
    }
}
