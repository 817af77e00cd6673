using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Runtime.Tests.Tokenization;

public sealed class TokenBatchTests
{
    private static readonly BertTokenizer Tokenizer = TokenizerFixtures.MiniLm();

    [Fact]
    public void Rows_are_padded_to_the_longest_with_a_zero_mask()
    {
        var rows = new[] { "short", "a somewhat longer sentence here", "" }.Select(t => Tokenizer.Encode(t)).ToArray();
        var batch = TokenBatch.Create(rows, Tokenizer.PadId);

        int longest = rows.Max(r => r.Length);
        Assert.Equal((3, longest), (batch.BatchSize, batch.SequenceLength));
        Assert.Equal([3L, longest], batch.Shape);
        for (int r = 0; r < rows.Length; r++)
        {
            for (int t = 0; t < longest; t++)
            {
                int i = r * longest + t;
                bool real = t < rows[r].Length;
                Assert.Equal(real ? rows[r].Ids[t] : Tokenizer.PadId, batch.InputIds[i]);
                Assert.Equal(real ? 1L : 0L, batch.AttentionMask[i]);
                Assert.Equal(0L, batch.TokenTypeIds[i]);
            }
        }
    }

    [Fact]
    public void Caller_buffers_are_filled_and_stale_values_overwritten()
    {
        var rows = new[] { Tokenizer.Encode("one"), Tokenizer.Encode("one two three") };
        var ids = Enumerable.Repeat(-7L, 64).ToArray();
        var mask = Enumerable.Repeat(-7L, 64).ToArray();
        var types = Enumerable.Repeat(-7L, 64).ToArray();

        var batch = TokenBatch.Create(rows, Tokenizer.PadId, ids, mask, types);

        Assert.Same(ids, batch.InputIds);
        Assert.Same(mask, batch.AttentionMask);
        Assert.Same(types, batch.TokenTypeIds);
        Assert.DoesNotContain(-7L, ids.AsSpan(0, batch.ElementCount).ToArray());
        Assert.DoesNotContain(-7L, mask.AsSpan(0, batch.ElementCount).ToArray());
        Assert.DoesNotContain(-7L, types.AsSpan(0, batch.ElementCount).ToArray());
        Assert.Equal(rows[0].Length + rows[1].Length, mask.AsSpan(0, batch.ElementCount).ToArray().Sum());
    }

    [Fact]
    public void A_too_small_buffer_is_refused_with_the_sizes()
    {
        var rows = new[] { Tokenizer.Encode("one two three"), Tokenizer.Encode("four") };
        var error = Assert.Throws<ArgumentException>(() => TokenBatch.Create(rows, Tokenizer.PadId, new long[3], null, null));
        Assert.Contains($"inputIds holds 3 elements but the batch needs {2 * rows[0].Length}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_batch_is_refused()
    {
        Assert.Throws<ArgumentException>(() => TokenBatch.Create([], Tokenizer.PadId));
    }
}
