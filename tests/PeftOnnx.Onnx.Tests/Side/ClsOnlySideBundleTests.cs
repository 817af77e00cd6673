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

    private static string Export(TempFolder temp, string form, string golden, bool clsOnly) =>
        new SideBundleExporter().Export(new SideBundleOptions
        {
            BaseDirectory = BaseDirectory,
            AdapterDirectories = [Adapter(golden)],
            OutputDirectory = temp.Combine(clsOnly ? "cls-only" : "full"),
            Form = form,
            ClsOnlyLastLayer = clsOnly,
        }).Directory;

    private static float[] Logits(string bundle, string form, string golden, SideInputs inputs)
    {
        using var model = SideModel.Load(bundle, Cpu, watch: false);
        return form == SideGraphManifest.MixedForm
            ? model.RunMixed(inputs, [.. Enumerable.Repeat<string?>(golden, inputs.BatchSize)]).Values
            : model.Run(inputs, golden).Values;
    }
}
