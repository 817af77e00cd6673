using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Numerics;
using PeftOnnx.Tests;
using PeftOnnx.Training.Arithmetic;
using Xunit.Abstractions;

namespace PeftOnnx.Training.Tests;

/// <summary>
/// to-lora on real PEFT adapters: at full rank the extracted LoRA reproduces the source's delta (from the registry's
/// merge, in float64); below it the kept part and the rest are orthogonal (Eckart-Young), and the reported energy is theirs.
/// </summary>
public sealed class LoraExtractionTests(MiniLmFixture miniLm, ITestOutputHelper output) : IClassFixture<MiniLmFixture>
{
    [Theory]
    [InlineData("lora_all_r16_rslora", 16)] // rank 16 holds a rank-16 delta exactly
    [InlineData("ia3_kv_ff", 384)] // IA3's delta is full rank: min(out, in) = 384 for every target
    public void At_full_rank_the_extracted_lora_reproduces_the_delta(string caseName, int rank)
    {
        var deltas = WeightDeltas.FromAdapter(miniLm.Base.Weights, PeftAdapter.Load(TestPaths.Fixture("peft", caseName)));
        var (lora, energy) = LoraExtraction.Extract(deltas, rank, null);

        Assert.Equal(rank, lora.Config.R);
        Assert.Equal(1.0, lora.Config.ScaleFor(deltas.Linears[0].Module));
        var worst = deltas.Linears.Max(d => MaxDiff(lora.Delta(d.Module), d.Delta) / d.Delta.Data.Max(Math.Abs));
        output.WriteLine($"{caseName} at r = {rank}: {deltas.Linears.Count} modules, max |B·A - ΔW| / max |ΔW| = {worst:E2}, lowest energy {energy.Min(e => e.Energy):P10}");
        Assert.True(worst < 1e-10, $"{caseName}: the extracted delta differs by {worst} (relative)");
        Assert.All(energy, e => Assert.InRange(e.Energy, 1 - 1e-12, 1 + 1e-12));
    }

    [Fact]
    public void Below_full_rank_the_energy_is_the_share_of_the_squared_norm_kept()
    {
        var deltas = WeightDeltas.FromAdapter(miniLm.Base.Weights, PeftAdapter.Load(TestPaths.Fixture("peft", "lora_all_r16_rslora")));
        var (lora, energy) = LoraExtraction.Extract(deltas, 4, null);
        var worst = 0.0;
        foreach (var (d, e) in deltas.Linears.Zip(energy))
        {
            var kept = lora.Delta(d.Module).Data;
            var total = d.Delta.Data.Sum(v => v * v);
            var keptSquares = kept.Sum(v => v * v);
            var rest = d.Delta.Data.Zip(kept, (x, k) => (x - k) * (x - k)).Sum();
            worst = Math.Max(worst, Math.Max(Math.Abs(keptSquares + rest - total) / total, Math.Abs((keptSquares / total) - e.Energy)));
            Assert.InRange(e.Energy, 0.25, 1 - 1e-6); // the top 4 of 16 directions keep at least 4/16 of it, and not all
        }
        output.WriteLine($"r = 4: energy {energy.Min(e => e.Energy):P2} .. {energy.Max(e => e.Energy):P2}; max orthogonality / energy error {worst:E2}");
        Assert.True(worst < 1e-10);
    }

    [Fact]
    public void Rank_outside_one_to_min_dim_is_refused_naming_the_module()
    {
        var deltas = WeightDeltas.FromAdapter(miniLm.Base.Weights, PeftAdapter.Load(TestPaths.Fixture("peft", "lora_qv_r8")));
        Assert.Contains("--rank should be positive, got 0", Assert.Throws<ArgumentException>(() => LoraExtraction.Extract(deltas, 0, null)).Message, StringComparison.Ordinal);
        Assert.Contains("--rank 385 exceeds min(out, in) = 384 of encoder.layer.0.attention.self.query", Assert.Throws<ArgumentException>(() => LoraExtraction.Extract(deltas, 385, null)).Message, StringComparison.Ordinal);
    }

    private static double MaxDiff(Matrix64 x, Matrix64 y) => x.Data.Zip(y.Data, (u, v) => Math.Abs(u - v)).Max();
}
