using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Lora;
using PeftOnnx.Core.Numerics;
using PeftOnnx.Tests;
using PeftOnnx.Training.Arithmetic;
using Xunit.Abstractions;

namespace PeftOnnx.Training.Tests;

/// <summary>
/// merge-adapters against a float64 reference of PEFT's add_weighted_adapter written out here, element by element
/// (peft/tuners/lora/model.py and peft/utils/merge_utils.py), on real PEFT-saved adapters: the fixtures lora_qv_r8
/// (r 8, alpha 16), lora_all_r16_rslora (r 16, alpha 8, rsLoRA), seqcls_lora_qv_r8 and the shipped
/// debian-sections-lora-r8.
/// </summary>
public sealed class WeightedAdapterMergeTests(MiniLmFixture miniLm, ITestOutputHelper output) : IClassFixture<MiniLmFixture>
{
    private const double Tolerance = 1e-12;
    private const string Query0 = "encoder.layer.0.attention.self.query";

    private static PeftAdapter Fixture(string name) => PeftAdapter.Load(TestPaths.Fixture("peft", name));

    private static PeftAdapter Shipped() => PeftAdapter.Load(Path.Combine(TestPaths.RepoRoot, "models", "adapters", "debian-sections-lora-r8"));

    private DerivedLoraAdapter Merge(string method, WeightedAdapter[] adapters, double? density = null, MajoritySignMethod sign = MajoritySignMethod.Total, int? svdRank = null, string? head = null, ulong seed = 0) =>
        WeightedAdapterMerge.Merge(adapters, new WeightedMergeOptions { Combination = CombinationType.Parse(method), Density = density, MajoritySign = sign, SvdRank = svdRank, Seed = seed, Head = head }, miniLm.Base.Weights, new List<string>());

    private static (Matrix64 A, Matrix64 B, double Scale) Lora(PeftAdapter adapter, string module)
    {
        var config = (LoraConfig)adapter.Config;
        var m = LoraModuleWeights.Collect(adapter, config)[module];
        return (m.A, m.B, config.ScaleFor(module));
    }

    [Fact]
    public void Cat_is_the_exact_weighted_sum_of_the_deltas()
    {
        var (qv, all) = (Fixture("lora_qv_r8"), Fixture("lora_all_r16_rslora"));
        var merged = Merge("cat", [new("qv", qv, 0.7), new("all", all, -0.4)]);

        Assert.Equal(24, merged.Config.R);
        Assert.Equal(1.0, merged.Config.ScaleFor(Query0));
        Assert.Equal(["dense", "key", "query", "value"], merged.Config.TargetModules!.Names);
        var worst = merged.Modules.Max(m => MaxDiff(merged.Delta(m.Module).Data, Reference(m.Module, [(qv, 0.7), (all, -0.4)])));
        output.WriteLine($"cat over {merged.Modules.Count} modules: max |ΔW - Σ w·s·B·A| = {worst:E2}");
        Assert.True(worst < Tolerance, $"cat differs by {worst}");
    }

    [Fact]
    public void Linear_weights_A_and_B_by_the_square_root_so_cross_terms_appear()
    {
        var (x, y) = (Shipped(), Fixture("seqcls_lora_qv_r8"));
        var merged = Merge("linear", [new("x", x, 0.6), new("y", y, -0.5)], head: "x");

        var worst = 0.0;
        foreach (var module in merged.Modules.Select(m => m.Module))
        {
            var (ax, bx, sx) = Lora(x, module);
            var (ay, by, sy) = Lora(y, module);
            // A: sign(w·s)·sqrt(|w·s|) per adapter, B: sqrt(|w·s|) (PEFT puts the sign on A only, so negative weights subtract).
            var (px, py) = (0.6 * sx, -0.5 * sy);
            var a = ax.Data.Zip(ay.Data, (u, v) => (Math.Sign(px) * Math.Sqrt(Math.Abs(px)) * u) + (Math.Sign(py) * Math.Sqrt(Math.Abs(py)) * v)).ToArray();
            var b = bx.Data.Zip(by.Data, (u, v) => (Math.Sqrt(Math.Abs(px)) * u) + (Math.Sqrt(Math.Abs(py)) * v)).ToArray();
            var m = merged.Modules.Single(f => f.Module == module);
            worst = Math.Max(worst, Math.Max(MaxDiff(m.A.Data, a), MaxDiff(m.B.Data, b)));
        }
        var crossTerms = MaxDiff(merged.Delta(Query0).Data, Reference(Query0, [(x, 0.6), (y, -0.5)]));
        output.WriteLine($"linear: max |A, B - reference| = {worst:E2}; |ΔW - Σ w·s·B·A| = {crossTerms:E2} (PEFT's cross terms)");
        Assert.True(worst < Tolerance, $"linear differs by {worst}");
        Assert.True(crossTerms > 1e-3, "linear should not equal the weighted sum of the deltas");
        Assert.Equal(x.Tensors.Where(t => t.Key.Module == "classifier").Select(t => t.Data), merged.SavedTensors.Select(t => t.Data));
    }

    [Theory]
    [InlineData("ties", MajoritySignMethod.Total)]
    [InlineData("ties", MajoritySignMethod.Frequency)]
    [InlineData("dare_linear", MajoritySignMethod.Total)]
    [InlineData("dare_ties", MajoritySignMethod.Total)]
    [InlineData("dare_ties", MajoritySignMethod.Frequency)]
    [InlineData("magnitude_prune", MajoritySignMethod.Total)]
    public void Pruning_merges_match_the_reference(string method, MajoritySignMethod sign)
    {
        var (x, y) = (Shipped(), Fixture("seqcls_lora_qv_r8"));
        const double density = 0.4;
        var merged = Merge(method, [new("x", x, 0.8), new("y", y, 0.5)], density, sign, head: "y", seed: 7);

        var worst = 0.0;
        foreach (var module in merged.Modules.Select(m => m.Module))
        {
            var (ax, bx, sx) = Lora(x, module);
            var (ay, by, sy) = Lora(y, module);
            var (px, py) = (0.8 * sx, 0.5 * sy);
            var m = merged.Modules.Single(f => f.Module == module);
            var a = ReferenceMerge(method, [ax.Data, ay.Data], [Math.Sqrt(px), Math.Sqrt(py)], density, sign, [DareMask.For(7, 0, module + ".lora_A"), DareMask.For(7, 1, module + ".lora_A")]);
            var b = ReferenceMerge(method, [bx.Data, by.Data], [Math.Sqrt(px), Math.Sqrt(py)], density, sign, [DareMask.For(7, 0, module + ".lora_B"), DareMask.For(7, 1, module + ".lora_B")]);
            worst = Math.Max(worst, Math.Max(MaxDiff(m.A.Data, a), MaxDiff(m.B.Data, b)));
        }
        output.WriteLine($"{method} ({sign}, density {density}): max |A, B - reference| = {worst:E2} over {merged.Modules.Count} modules");
        Assert.True(worst < Tolerance, $"{method} differs by {worst}");
    }

    [Fact]
    public void Svd_refactorises_the_merged_delta_exactly_at_full_rank_and_keeps_the_top_energy_below_it()
    {
        var (x, y) = (Shipped(), Fixture("seqcls_lora_qv_r8"));
        var exact = Merge("svd", [new("x", x, 0.6), new("y", y, 0.4)], svdRank: 16, head: "x");
        var truncated = Merge("svd", [new("x", x, 0.6), new("y", y, 0.4)], head: "x");

        // PEFT's svd path weighs get_delta_weight (already s·B·A) by w·s: s appears twice.
        var (ax, bx, sx) = Lora(x, Query0);
        var (ay, by, sy) = Lora(y, Query0);
        var reference = new double[384 * 384];
        AddProduct(reference, ax, bx, 0.6 * sx * sx);
        AddProduct(reference, ay, by, 0.4 * sy * sy);
        var diff = MaxDiff(exact.Delta(Query0).Data, reference);

        // Eckart-Young: the rank-8 part and the rest are orthogonal, ||D||² = ||D_8||² + ||D - D_8||².
        var kept = truncated.Delta(Query0).Data;
        var total = reference.Sum(v => v * v);
        var split = kept.Sum(v => v * v) + reference.Zip(kept, (d, k) => (d - k) * (d - k)).Sum();
        output.WriteLine($"svd rank 16: max |B·A - Σ w·s²·B·A| = {diff:E2}; rank 8 keeps {kept.Sum(v => v * v) / total:P2} of the energy, orthogonality error {Math.Abs(split - total) / total:E2}");
        Assert.True(diff < 1e-10, $"svd at full rank differs by {diff}");
        Assert.True(Math.Abs(split - total) / total < 1e-10);
        Assert.Equal(8, truncated.Config.R);
    }

    [Fact]
    public void A_single_adapter_becomes_linear_and_reproduces_its_delta()
    {
        var notes = new List<string>();
        var x = Shipped();
        var merged = WeightedAdapterMerge.Merge([new("x", x, 1.0)], new WeightedMergeOptions { Combination = CombinationType.Parse("ties"), Density = 0.5 }, miniLm.Base.Weights, notes);
        var diff = MaxDiff(merged.Delta(Query0).Data, Reference(Query0, [(x, 1.0)]));
        output.WriteLine($"one adapter, weight 1: max |ΔW - ΔW_x| = {diff:E2}");
        Assert.Contains(notes, n => n.Contains("becomes linear", StringComparison.Ordinal));
        Assert.True(diff < Tolerance);
    }

    [Fact]
    public void Dare_masks_keep_each_element_with_probability_density_and_rescale_exactly()
    {
        const int n = 1_000_000;
        const double density = 0.3;
        var values = Enumerable.Range(0, n).Select(i => (i % 7) - 3.0 + 0.5).ToArray();
        var pruned = TaskTensorMerge.RandomPruned(values, density, DareMask.For(42, 0, "m.lora_A"));
        var kept = Enumerable.Range(0, n).Count(i => pruned[i] != 0);
        var sigma = Math.Sqrt(density * (1 - density) / n);
        output.WriteLine($"kept {kept} of {n} = {kept / (double)n:F5} (density {density}, 4σ = {4 * sigma:F5})");
        Assert.InRange(kept / (double)n, density - (4 * sigma), density + (4 * sigma));
        Assert.All(Enumerable.Range(0, n).Where(i => pruned[i] != 0), i => Assert.Equal(values[i] / density, pruned[i]));
        // The mean is preserved in expectation: E[mask/d · v] = v.
        Assert.InRange(pruned.Sum() / values.Sum(), 0.98, 1.02);

        var again = TaskTensorMerge.RandomPruned(values, density, DareMask.For(42, 0, "m.lora_A"));
        Assert.Equal(pruned, again);
        var otherSeed = TaskTensorMerge.RandomPruned(values, density, DareMask.For(43, 0, "m.lora_A"));
        var otherAdapter = TaskTensorMerge.RandomPruned(values, density, DareMask.For(42, 1, "m.lora_A"));
        // Independent streams: both keep an element with probability d².
        var both = Enumerable.Range(0, n).Count(i => pruned[i] != 0 && otherAdapter[i] != 0) / (double)n;
        Assert.InRange(both, (density * density) - 0.003, (density * density) + 0.003);
        Assert.NotEqual(pruned, otherSeed);
    }

    [Fact]
    public void Magnitude_pruning_keeps_int_density_n_values_and_the_lower_index_on_ties()
    {
        double[] values = [1, -3, 2, -2, 0.5, 3];
        Assert.Equal([0, -3, 2, 0, 0, 3], TaskTensorMerge.MagnitudePruned(values, 0.5)); // int(0.5·6) = 3; |−2| ties with 2, index 2 wins
        Assert.Equal([0, -3, 0, 0, 0, 0], TaskTensorMerge.MagnitudePruned(values, 0.3)); // int(1.8) = 1
        Assert.Same(values, TaskTensorMerge.MagnitudePruned(values, 1));
    }

    // PEFT's merge_utils written out per element: prune, elect the sign on the unweighted pruned tensors, weight, merge.
    private static double[] ReferenceMerge(string method, double[][] tensors, double[] weights, double density, MajoritySignMethod sign, DareMask[] masks)
    {
        var n = tensors[0].Length;
        var pruned = new double[tensors.Length][];
        for (var t = 0; t < tensors.Length; t++)
        {
            pruned[t] = new double[n];
            if (method.StartsWith("dare", StringComparison.Ordinal))
            {
                for (var j = 0; j < n; j++)
                    pruned[t][j] = masks[t].Keeps(j, density) ? tensors[t][j] / density : 0;
            }
            else
            {
                var keep = (int)Math.Floor(density * n);
                foreach (var j in Enumerable.Range(0, n).OrderByDescending(j => Math.Abs(tensors[t][j])).Take(keep))
                    pruned[t][j] = tensors[t][j];
            }
        }
        var result = new double[n];
        for (var j = 0; j < n; j++)
        {
            if (method is "dare_linear" or "magnitude_prune")
            {
                for (var t = 0; t < tensors.Length; t++)
                    result[j] += weights[t] * pruned[t][j];
                continue;
            }
            var election = Enumerable.Range(0, tensors.Length).Sum(t => sign == MajoritySignMethod.Total ? pruned[t][j] : Math.Sign(pruned[t][j]));
            var majority = election >= 0 ? 1 : -1;
            var agreeing = Enumerable.Range(0, tensors.Length).Where(t => Math.Sign(pruned[t][j]) == majority).ToList();
            result[j] = agreeing.Sum(t => weights[t] * pruned[t][j]) / Math.Max(agreeing.Count, 1);
        }
        return result;
    }

    private static double[] Reference(string module, IEnumerable<(PeftAdapter Adapter, double Weight)> parts)
    {
        double[]? sum = null;
        foreach (var (adapter, weight) in parts)
        {
            if (!adapter.Tensors.Any(t => t.Key.Module == module && t.Key.Parameter == "lora_A.weight"))
                continue;
            var (a, b, s) = Lora(adapter, module);
            sum ??= new double[b.Rows * a.Cols];
            AddProduct(sum, a, b, weight * s);
        }
        return sum!;
    }

    // sum += factor · B·A, written as the triple loop.
    private static void AddProduct(double[] sum, Matrix64 a, Matrix64 b, double factor)
    {
        for (var o = 0; o < b.Rows; o++)
        {
            for (var i = 0; i < a.Cols; i++)
            {
                var v = 0.0;
                for (var k = 0; k < a.Rows; k++)
                    v += b[o, k] * a[k, i];
                sum[(o * a.Cols) + i] += factor * v;
            }
        }
    }

    private static double MaxDiff(double[] x, double[] y)
    {
        Assert.Equal(y.Length, x.Length);
        return x.Zip(y, (u, v) => Math.Abs(u - v)).Max();
    }
}
