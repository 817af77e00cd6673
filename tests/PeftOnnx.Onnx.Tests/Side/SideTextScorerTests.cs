using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.OrtAdapters;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Runtime.Adapters;
using PeftOnnx.Runtime.Scoring;
using Xunit.Abstractions;
using PeftOnnx.Tests;
using static PeftOnnx.Onnx.Tests.Side.SideBundles;
using static PeftOnnx.Tests.ReversedTenant;

namespace PeftOnnx.Onnx.Tests.Side;

public sealed class SideTextScorerTests(ITestOutputHelper output)
{
    [Fact]
    public void Grouped_and_mixed_batching_give_the_same_scores_and_both_get_measured()
    {
        using var temp = new TempFolder();
        var bundle = ExportSide(temp, SideGraphManifest.MixedForm, "seqcls_lora_qv_r8");
        var folder = Path.Combine(bundle, SideGraphManifest.AdapterFolder);
        var second = OrtAdapterFile.Load(Path.Combine(folder, "seqcls_lora_qv_r8" + OrtAdapterFile.Extension));
        ReversedTenant.Of(second).Save(Path.Combine(folder, "tenant2" + OrtAdapterFile.Extension));

        using var model = SideModel.Load(bundle, Cpu, watch: false);
        var scorer = new SideTextScorer(model, "seqcls_lora_qv_r8", new ScorerOptions { BatchSize = 4 });
        string?[] adapters = ["tenant2", null, "tenant2", null, "tenant2", null];
        var calls = Enumerable.Range(0, 2 * AdapterBatchStrategy.Samples).Select(_ => scorer.Score(Texts, adapters)).ToList();
        var (grouped, mixed) = scorer.Strategy.Rates;
        output.WriteLine($"measured tokens/s: grouped {grouped:F0}, mixed {mixed:F0}");
        Assert.True(grouped > 0 && mixed > 0, "both strategies must have been tried");
        double worst = 0;
        foreach (var call in calls.Skip(1))
        {
            for (var i = 0; i < Texts.Length; i++)
                worst = Math.Max(worst, calls[0][i].Probabilities!.Zip(call[i].Probabilities!, (a, b) => Math.Abs(a - b)).Max());
        }
        output.WriteLine($"max probability difference between calls (grouped vs mixed): {worst:E2}");
        Assert.True(worst <= 1e-5, $"{worst:E2}");

        var single = scorer.Score(Texts);
        for (var i = 0; i < Texts.Length; i += 2)
        {
            var labels = single[i].Probabilities!.Length;
            for (var l = 0; l < labels; l++)
                Assert.Equal(single[i].Probabilities![l], calls[0][i].Probabilities![labels - 1 - l], 4); // reversed head = reversed probabilities
        }
    }

    [Fact]
    public void Rows_of_very_different_lengths_score_as_they_do_alone()
    {
        // On CPU a batch ends before a row shorter than half its longest, so these make several ONNX Runtime calls.
        using var temp = new TempFolder();
        var bundle = ExportSide(temp, SideGraphManifest.MixedForm, "seqcls_lora_qv_r8");
        using var model = SideModel.Load(bundle, Cpu, watch: false);
        string[] texts =
        [
            string.Join(' ', Enumerable.Repeat("A library for reading and writing compressed archives in many formats.", 6)),
            "Fonts.",
            Texts[0],
            "Mail.",
            string.Join(' ', Enumerable.Repeat("Tools to inspect and repair file systems.", 4)),
        ];
        var batched = new SideTextScorer(model, "seqcls_lora_qv_r8", new ScorerOptions { BatchSize = 8 }).Score(texts);
        var alone = new SideTextScorer(model, "seqcls_lora_qv_r8", new ScorerOptions { BatchSize = 1 });

        var worst = texts.Select((t, i) => alone.Score([t])[0].Probabilities!.Zip(batched[i].Probabilities!, (a, b) => (double)Math.Abs(a - b)).Max()).Max();

        output.WriteLine($"max probability difference, batched vs one at a time: {worst:E2}");
        Assert.True(worst <= 1e-5, $"{worst:E2}");
    }

    [Fact]
    public void Folder_routing_picks_the_served_adapter_of_the_first_sub_folder()
    {
        using var temp = new TempFolder();
        var root = temp.Combine("inbox");
        var router = new FolderAdapterRouter([root], name => name is "acme" or "globex");
        Assert.Equal("acme", router.Route(Path.Combine(root, "acme", "2026", "a.txt")));
        Assert.Null(router.Route(Path.Combine(root, "initech", "b.txt")));
        Assert.Null(router.Route(Path.Combine(root, "c.txt")));
        Assert.Null(router.Route(temp.Combine("elsewhere/acme/d.txt")));
    }
}
