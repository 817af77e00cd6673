using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Bottleneck;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.OrtAdapters;
using PeftOnnx.Onnx.Passes;
using PeftOnnx.Onnx.Side;

namespace PeftOnnx.Onnx.Methods.Bottleneck;

/// <summary>Bottleneck adapters as a side graph: their weights are adapter inputs of blocks added after the projections (<see cref="BottleneckAdapterPass"/>).</summary>
public sealed class BottleneckSideGraph : ISideGraphMethod
{
    public static BottleneckSideGraph Method { get; } = new();

    public string PeftType => BottleneckConfig.TypeName;

    public bool MixedBatches => false;

    public SideGraphManifest Build(SideGraphRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var adapter = request.Adapters[0];
        var weights = adapter.Tensors
            .Where(t => t.Key.InEncoder)
            .ToDictionary(t => SideParameters.SlotName(t.Key), t => (Array.ConvertAll(t.Data, v => (float)v), t.Shape), StringComparer.Ordinal);
        var slots = request.Model.Applied(new BottleneckAdapterPass(request.Map, (BottleneckConfig)adapter.Config, weights)).Slots;
        return new SideGraphManifest { Form = SideGraphManifest.SideForm, PeftType = PeftType, BaseModel = request.BaseName, Parameters = slots };
    }

    public IEnumerable<OrtAdapterParameter> Parameters(PeftAdapter adapter, SideGraphManifest side, SideBaseWeights baseWeights) => SideParameters.Collect(adapter, side);
}
