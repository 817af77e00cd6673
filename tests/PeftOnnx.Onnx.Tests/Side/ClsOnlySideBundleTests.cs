using PeftOnnx.Core.Bundles;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Runtime.Adapters;
using Xunit.Abstractions;
using static PeftOnnx.Onnx.Tests.Side.SideBundles;

namespace PeftOnnx.Onnx.Tests.Side;

/// <summary>Side bundles get the [CLS]-only last layer through their query branch: same logits as the full last layer.</summary>
public sealed class ClsOnlySideBundleTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("side", "seqcls_lora_qv_r8")]
    [InlineData("mixed", "seqcls_lora_qv_r8")]
    [InlineData("side", "seqcls_prefix_tuning_8")]
    [InlineData("side", "seqcls_prompt_tuning_10")]
    public void The_query_branch_reads_row_0_and_the_logits_stay(string form, string golden)
    {
        using var temp = new TempFolder();
        var pruned = Export(temp, form, golden, clsOnly: true);
        var full = Export(temp, form, golden, clsOnly: false);
        var (inputs, expected, _) = Reference(golden);

        var prunedLogits = Logits(pruned, form, golden, inputs);
        var fullLogits = Logits(full, form, golden, inputs);

        var vsFull = MaxAbsDiff(prunedLogits, fullLogits);
        var vsGolden = MaxAbsDiff(prunedLogits, expected);
        output.WriteLine($"{form} {golden}: [CLS]-only vs full last layer {vsFull:E2}, vs PEFT {vsGolden:E2}");
        Assert.Contains(OnnxModelFile.Load(Path.Combine(pruned, "model.onnx")).Graph.Node, n => n.Name == "cls_last_layer/x0_slice");
        Assert.DoesNotContain(OnnxModelFile.Load(Path.Combine(full, "model.onnx")).Graph.Node, n => n.Name.StartsWith("cls_last_layer/", StringComparison.Ordinal));
        Assert.True(vsFull <= 1e-5, $"{vsFull:E2}");
        Assert.True(vsGolden <= 1e-4, $"{vsGolden:E2}");
    }

    /// <summary>
    /// LoReFT at the last layer edits row 0 only, with row 0 of its position mask; gated prompts' attention over their
    /// constant rows follows the sliced query. One mixed bundle serves LoRA, LoReFT and gated-prompt tenants.
    /// </summary>
    [Theory]
    [InlineData("side", "loreft")]
    [InlineData("side", "gated-prompt")]
    [InlineData("mixed", "loreft")]
    [InlineData("mixed", "gated-prompt")]
    [InlineData("mixed", "seqcls_lora_qv_r8", "loreft", "gated-prompt")]
    public void LoReFT_and_gated_prompts_compute_the_last_layer_for_CLS_only(string form, params string[] tenants)
    {
        using var temp = new TempFolder();
        var adapters = tenants.Select((t, i) => t switch
        {
            "loreft" => RepresentationAdapters.LoReft(temp.Combine(t), seed: 1 + i),
            "gated-prompt" => RepresentationAdapters.GatedPrompt(temp.Combine(t), seed: 1 + i),
            _ => Adapter(t),
        }).ToArray();
        var pruned = Export(temp, form, clsOnly: true, adapters);
        var full = Export(temp, form, clsOnly: false, adapters);
        var (inputs, _, _) = Reference("seqcls_lora_qv_r8"); // rows of 15, 15, 19 and 35 tokens, right-padded

        var prunedNodes = OnnxModelFile.Load(Path.Combine(pruned, "model.onnx")).Graph.Node;
        Assert.Contains(prunedNodes, n => n.Name == "cls_last_layer/x0_slice");
        Assert.Equal(tenants.Contains("loreft"), prunedNodes.Any(n => n.Name == "cls_last_layer/aligned0_slice")); // the position mask's row 0
        Assert.DoesNotContain(OnnxModelFile.Load(Path.Combine(full, "model.onnx")).Graph.Node, n => n.Name.StartsWith("cls_last_layer/", StringComparison.Ordinal));
        foreach (var tenant in tenants)
        {
            var vsFull = MaxAbsDiff(Logits(pruned, form, tenant, inputs), Logits(full, form, tenant, inputs));
            output.WriteLine($"{form} {tenant}: [CLS]-only vs full last layer {vsFull:E2}");
            Assert.True(vsFull <= 1e-5, $"{tenant}: {vsFull:E2}");
        }
        if (tenants.Length > 1)
        {
            string?[] rows = [.. Enumerable.Range(0, inputs.BatchSize).Select(r => tenants[r % tenants.Length])];
            var vsFull = MaxAbsDiff(Mixed(pruned, inputs, rows), Mixed(full, inputs, rows));
            output.WriteLine($"mixed batch of {string.Join(", ", rows)}: [CLS]-only vs full last layer {vsFull:E2}");
            Assert.True(vsFull <= 1e-5, $"{vsFull:E2}");
        }
    }

    private static string Export(TempFolder temp, string form, string golden, bool clsOnly) => Export(temp, form, clsOnly, Adapter(golden));

    private static string Export(TempFolder temp, string form, bool clsOnly, params string[] adapters) =>
        new SideBundleExporter().Export(new SideBundleOptions
        {
            BaseDirectory = BaseDirectory,
            AdapterDirectories = adapters,
            OutputDirectory = temp.Combine(clsOnly ? "cls-only" : "full"),
            Form = form,
            ClsOnlyLastLayer = clsOnly,
        }).Directory;

    private static float[] Mixed(string bundle, SideInputs inputs, string?[] rows)
    {
        using var model = SideModel.Load(bundle, Cpu, watch: false);
        return model.RunMixed(inputs, rows).Values;
    }

    private static float[] Logits(string bundle, string form, string golden, SideInputs inputs)
    {
        using var model = SideModel.Load(bundle, Cpu, watch: false);
        return form == SideGraphManifest.MixedForm
            ? model.RunMixed(inputs, [.. Enumerable.Repeat<string?>(golden, inputs.BatchSize)]).Values
            : model.Run(inputs, golden).Values;
    }
}
