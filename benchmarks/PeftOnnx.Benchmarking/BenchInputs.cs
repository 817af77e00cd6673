using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Benchmarking;

/// <summary>Maps BERT input names to a batch's arrays, and makes synthetic batches.</summary>
public static class BenchInputs
{
    public static Memory<long> Select(TokenBatch batch, string input)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var array = input switch
        {
            "input_ids" => batch.InputIds,
            "attention_mask" => batch.AttentionMask,
            "token_type_ids" => batch.TokenTypeIds,
            _ => throw new InvalidDataException($"The benchmark feeds input_ids, attention_mask and token_type_ids; the model also wants '{input}'."),
        };
        return array.AsMemory(0, batch.ElementCount);
    }

    /// <summary>
    /// A batch of <paramref name="batchSize"/> full-length rows ([CLS], random word-piece ids, [SEP]), no padding:
    /// the anchors' synthetic input. Seeded, so every target sees the same ids.
    /// </summary>
    public static TokenBatch Synthetic(BertTokenizer tokenizer, int batchSize, int sequence, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentOutOfRangeException.ThrowIfLessThan(sequence, 3);
        var random = new Random(seed);
        var rows = new List<TokenizedText>(batchSize);
        for (var r = 0; r < batchSize; r++)
        {
            var ids = new int[sequence];
            ids[0] = tokenizer.ClsId;
            for (var t = 1; t < sequence - 1; t++)
                ids[t] = random.Next(1000, tokenizer.VocabSize);
            ids[^1] = tokenizer.SepId;
            rows.Add(new TokenizedText("", ids, new (int, int)[sequence], 0, sequence - 2));
        }
        return TokenBatch.Create(rows, tokenizer.PadId);
    }
}
