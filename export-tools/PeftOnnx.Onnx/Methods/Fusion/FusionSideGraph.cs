using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Bottleneck;
using PeftOnnx.Core.Adapters.Fusion;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.OrtAdapters;
using PeftOnnx.Onnx.Methods.Bottleneck;
using PeftOnnx.Onnx.Passes;
using PeftOnnx.Onnx.Side;

namespace PeftOnnx.Onnx.Methods.Fusion;

/// <summary>
/// AdapterFusion as a side graph (<see cref="AdapterFusionPass"/>): N is fixed per bundle; an adapter file holds one
/// fusion folder's N adapters, its fusion weights and its classifier.
/// </summary>
public sealed class FusionSideGraph : ISideGraphMethod
{
    public static FusionSideGraph Method { get; } = new();

    public string PeftType => FusionConfig.TypeName;

    public bool MixedBatches => false;

    public SideGraphManifest Build(SideGraphRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var fusion = request.Adapters[0];
        var adapters = Fused(fusion);
        request.Progress?.Report($"fusion of {adapters.Count} adapters: {string.Join(", ", adapters.Names)}");
        var pass = new AdapterFusionPass(request.Map, ((FusionConfig)fusion.Config).Fusion, adapters.Configs, FrozenAdapterSlots.Tensors(fusion, adapters));
        var slots = request.Model.Applied(pass).Slots;
        return new SideGraphManifest { Form = SideGraphManifest.SideForm, PeftType = PeftType, BaseModel = request.BaseName, Parameters = slots };
    }

    public IEnumerable<OrtAdapterParameter> Parameters(PeftAdapter adapter, SideGraphManifest side, SideBaseWeights baseWeights) =>
        FrozenAdapterSlots.Parameters(adapter, FrozenAdapterSlots.Tensors(adapter, Fused(adapter)), side,
            "the fusion has other sites, another number of adapters or other fusion settings (query/key/value) than the bundle's");

    private static FrozenAdapterSet Fused(PeftAdapter fusion) => FrozenAdapterSet.FromCopies(fusion, ((FusionConfig)fusion.Config).Adapters, FusionConfig.Role);
}
