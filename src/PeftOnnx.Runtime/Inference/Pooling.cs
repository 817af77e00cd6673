namespace PeftOnnx.Runtime.Inference;

/// <summary>Sentence embeddings from token states, as sentence-transformers computes them.</summary>
public static class Pooling
{
    /// <summary>
    /// Mean over the unmasked tokens of each row. <paramref name="hidden"/> is (B, S, H) row-major,
    /// <paramref name="mask"/> is (B, S). A row with no unmasked token pools to zeros.
    /// </summary>
    public static float[][] Mean(ReadOnlySpan<float> hidden, ReadOnlySpan<long> mask, int batch, int sequence, int hiddenSize)
    {
        CheckShape(hidden.Length, mask.Length, batch, sequence, hiddenSize);
        var pooled = new float[batch][];
        var sum = new double[hiddenSize];
        for (var b = 0; b < batch; b++)
        {
            Array.Clear(sum);
            var count = 0;
            for (var s = 0; s < sequence; s++)
            {
                if (mask[(b * sequence) + s] == 0)
                    continue;
                count++;
                var token = hidden.Slice(((b * sequence) + s) * hiddenSize, hiddenSize);
                for (var h = 0; h < hiddenSize; h++)
                    sum[h] += token[h];
            }
            var row = new float[hiddenSize];
            if (count > 0)
            {
                for (var h = 0; h < hiddenSize; h++)
                    row[h] = (float)(sum[h] / count);
            }
            pooled[b] = row;
        }
        return pooled;
    }

    /// <summary>The first token ([CLS]) of each row of (B, S, H) states.</summary>
    public static float[][] Cls(ReadOnlySpan<float> hidden, int batch, int sequence, int hiddenSize)
    {
        CheckShape(hidden.Length, batch * sequence, batch, sequence, hiddenSize);
        var pooled = new float[batch][];
        for (var b = 0; b < batch; b++)
            pooled[b] = hidden.Slice(b * sequence * hiddenSize, hiddenSize).ToArray();
        return pooled;
    }

    /// <summary>Splits (B, H) rows, e.g. a pooler output, into one array per row.</summary>
    public static float[][] Rows(ReadOnlySpan<float> values, int batch, int width)
    {
        if (values.Length != batch * width)
            throw new ArgumentException($"Expected {batch}x{width} = {batch * width} values, got {values.Length}.", nameof(values));
        var rows = new float[batch][];
        for (var b = 0; b < batch; b++)
            rows[b] = values.Slice(b * width, width).ToArray();
        return rows;
    }

    /// <summary>Scales <paramref name="vector"/> to unit L2 norm in place (a zero vector stays zero).</summary>
    public static void L2Normalize(Span<float> vector)
    {
        double squares = 0;
        foreach (var v in vector)
            squares += (double)v * v;
        // sentence-transformers' Normalize uses F.normalize, which clamps the norm at 1e-12.
        var norm = Math.Max(Math.Sqrt(squares), 1e-12);
        for (var i = 0; i < vector.Length; i++)
            vector[i] = (float)(vector[i] / norm);
    }

    private static void CheckShape(int hiddenLength, int maskLength, int batch, int sequence, int hiddenSize)
    {
        if (hiddenLength != batch * sequence * hiddenSize)
            throw new ArgumentException($"Hidden states hold {hiddenLength} values, expected (B={batch}, S={sequence}, H={hiddenSize}) = {batch * sequence * hiddenSize}.");
        if (maskLength != batch * sequence)
            throw new ArgumentException($"Attention mask holds {maskLength} values, expected (B={batch}, S={sequence}) = {batch * sequence}.");
    }
}
