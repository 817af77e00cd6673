using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Bottleneck;
using PeftOnnx.Core.Adapters.Stack;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.OrtAdapters;
using PeftOnnx.Onnx.Methods.Bottleneck;
using PeftOnnx.Onnx.Passes;
using PeftOnnx.Onnx.Side;

namespace PeftOnnx.Onnx.Methods.Stack;

/// <summary>
/// An adapter stack as a side graph: the bottleneck pass chains the stacked-on adapters and the top one at every site
/// (<see cref="BottleneckAdapterPass.Stacked"/>). The depth and the widths are fixed per bundle; an adapter file holds
/// one stack folder's adapters, the top one and its classifier.
/// </summary>
public sealed class StackSideGraph : ISideGraphMethod
{
    public static StackSideGraph Method { get; } = new();

    public string PeftType => StackConfig.TypeName;

    public bool MixedBatches => false;

    public SideGraphManifest Build(SideGraphRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var stack = request.Adapters[0];
        var config = (StackConfig)stack.Config;
        var lower = Lower(stack);
        request.Progress?.Report($"{config.Variant} adapter stacked on {string.Join(", ", lower.Names)}");
        var pass = BottleneckAdapterPass.Stacked(request.Map, [.. lower.Configs, config.Top], FrozenAdapterSlots.Tensors(stack, lower));
        var slots = request.Model.Applied(pass).Slots;
        return new SideGraphManifest { Form = SideGraphManifest.SideForm, PeftType = PeftType, BaseModel = request.BaseName, Parameters = slots };
    }

    public IEnumerable<OrtAdapterParameter> Parameters(PeftAdapter adapter, SideGraphManifest side, SideBaseWeights baseWeights) =>
        FrozenAdapterSlots.Parameters(adapter, FrozenAdapterSlots.Tensors(adapter, Lower(adapter)), side,
            "the stack has other sites, another depth or other adapter widths than the bundle's");

    /// <summary>The stacked-on adapters' copies, checked against the config's sha256 and the top adapter's sites.</summary>
    private static FrozenAdapterSet Lower(PeftAdapter stack)
    {
        var config = (StackConfig)stack.Config;
        var lower = FrozenAdapterSet.FromCopies(stack, config.StackedOn, StackConfig.Role);
        config.RequireSites(lower);
        return lower;
    }
}
