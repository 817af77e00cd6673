using PeftOnnx.Core.Bundles;
using PeftOnnx.Runtime.Adapters;
using Xunit.Abstractions;
using static PeftOnnx.Onnx.Tests.Side.SideBundles;

namespace PeftOnnx.Onnx.Tests.Side;

public sealed class VirtualTokenSideExportTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("seqcls_prompt_tuning_10")]
    [InlineData("seqcls_prefix_tuning_8")]
    public void Prompt_and_prefix_side_graphs_match_the_PEFT_logits(string golden)
    {
        using var temp = new TempFolder();
        var bundle = ExportSide(temp, SideGraphManifest.SideForm, golden);
        var (inputs, expected, _) = Reference(golden);
        using var model = SideModel.Load(bundle, Cpu, watch: false);
        var defaults = MaxAbsDiff(model.Run(inputs, null).Values, expected);
        var withAdapter = MaxAbsDiff(model.Run(inputs, golden).Values, expected);
        output.WriteLine($"{golden}: graph defaults vs golden {defaults:E2}, with its .onnx_adapter {withAdapter:E2}");
        Assert.True(defaults <= 1e-4, $"{defaults:E2}");
        Assert.True(withAdapter <= 1e-4, $"{withAdapter:E2}");
    }
}
