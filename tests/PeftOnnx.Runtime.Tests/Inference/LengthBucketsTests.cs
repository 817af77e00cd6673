using PeftOnnx.Runtime.Inference;

namespace PeftOnnx.Runtime.Tests.Inference;

public sealed class LengthBucketsTests
{
    [Fact]
    public void Batches_hold_similar_lengths_longest_first()
    {
        int[] lengths = [5, 100, 7, 98, 6, 99];
        var plan = LengthBuckets.Plan(lengths, 3);
        Assert.Equal(2, plan.Count);
        Assert.Equal(new[] { 1, 5, 3 }, plan[0]);
        Assert.Equal(new[] { 2, 4, 0 }, plan[1]);
    }

    [Fact]
    public void Every_index_appears_exactly_once()
    {
        var random = new Random(3);
        var lengths = Enumerable.Range(0, 101).Select(_ => random.Next(3, 256)).ToArray();
        var plan = LengthBuckets.Plan(lengths, 8);
        Assert.Equal(Enumerable.Range(0, 101), plan.SelectMany(b => b).Order());
        Assert.All(plan.SkipLast(1), b => Assert.Equal(8, b.Length));
    }

    [Fact]
    public void Sorting_pads_far_less_than_input_order()
    {
        var random = new Random(5);
        var lengths = Enumerable.Range(0, 256).Select(_ => random.Next(3, 256)).ToArray();
        var bucketed = LengthBuckets.PaddedTokens(lengths, LengthBuckets.Plan(lengths, 16));
        var inOrder = LengthBuckets.PaddedTokens(lengths, Enumerable.Range(0, 16).Select(b => Enumerable.Range(b * 16, 16).ToArray()).ToList());
        Assert.True(bucketed < inOrder * 0.7, $"bucketed {bucketed} vs in order {inOrder}");
        Assert.True(bucketed >= lengths.Sum());
    }

    [Fact]
    public void Min_fill_starts_a_new_batch_before_a_row_shorter_than_that_fraction_of_the_longest()
    {
        int[] lengths = [30, 120, 100, 59, 61];
        var plan = LengthBuckets.Plan(lengths, 32, minFill: 0.5);
        Assert.Equal(new[] { new[] { 1, 2, 4 }, new[] { 3, 0 } }, plan);
        Assert.True(LengthBuckets.PaddedTokens(lengths, plan) < LengthBuckets.PaddedTokens(lengths, LengthBuckets.Plan(lengths, 32)));
        Assert.Equal(Enumerable.Range(0, 5), LengthBuckets.Plan(lengths, 2, minFill: 0.9).SelectMany(b => b).Order());
    }

    [Fact]
    public void Batch_size_below_one_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LengthBuckets.Plan([1, 2], 0));
    }
}
