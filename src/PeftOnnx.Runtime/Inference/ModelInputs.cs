using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Runtime.Inference;

/// <summary>
/// The int64 (B, S) encoder inputs as row-major arrays. The arrays may be longer than B*S (pooled buffers);
/// only the first B*S elements are the tensor. Built from a <see cref="TokenBatch"/>, or directly from ids
/// that came from elsewhere (a reference file, another tokenizer).
/// </summary>
public readonly record struct ModelInputs(long[] InputIds, long[] AttentionMask, long[] TokenTypeIds, int BatchSize, int SequenceLength)
{
    public int ElementCount => BatchSize * SequenceLength;

    public long[] Shape => [BatchSize, SequenceLength];

    public static ModelInputs From(TokenBatch batch) =>
        new(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds, batch.BatchSize, batch.SequenceLength);

    public void Validate()
    {
        if (BatchSize < 1 || SequenceLength < 1)
            throw new ArgumentException($"Inputs need at least one row and one token, got (B={BatchSize}, S={SequenceLength}).");
        foreach (var (name, array) in new[] { ("input_ids", InputIds), ("attention_mask", AttentionMask), ("token_type_ids", TokenTypeIds) })
        {
            if (array.Length < ElementCount)
                throw new ArgumentException($"{name} holds {array.Length} values, fewer than (B={BatchSize}) x (S={SequenceLength}) = {ElementCount}.");
        }
    }
}
