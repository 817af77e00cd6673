using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Fusion;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.OrtAdapters;
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
        var adapters = FusedAdapterSet.FromFusion(fusion);
        request.Progress?.Report($"fusion of {adapters.Count} adapters: {string.Join(", ", adapters.Names)}");
        var pass = new AdapterFusionPass(request.Map, ((FusionConfig)fusion.Config).Fusion, adapters.Configs, Tensors(fusion, adapters));
        var slots = request.Model.Applied(pass).Slots;
        return new SideGraphManifest { Form = SideGraphManifest.SideForm, PeftType = PeftType, BaseModel = request.BaseName, Parameters = slots };
    }

    public IEnumerable<OrtAdapterParameter> Parameters(PeftAdapter adapter, SideGraphManifest side, SideBaseWeights baseWeights)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        ArgumentNullException.ThrowIfNull(side);
        var tensors = Tensors(adapter, FusedAdapterSet.FromFusion(adapter));
        var slots = side.Parameters.Where(p => !p.Name.StartsWith("classifier.", StringComparison.Ordinal)).ToDictionary(p => p.Name, StringComparer.Ordinal);
        var extra = tensors.Keys.Where(k => !slots.ContainsKey(k)).ToList();
        if (extra.Count > 0)
            throw new InvalidDataException($"{adapter.Directory}: {extra[0]} has no input in this fusion side graph; the fusion has other sites, more adapters or other fusion settings (query/key/value) than the bundle's.");
        var missing = slots.Keys.Where(k => !tensors.ContainsKey(k)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{adapter.Directory} lacks {string.Join(", ", missing.Take(4))}{(missing.Count > 4 ? $" ({missing.Count} in all)" : "")}, which this fusion side graph takes; the bundle fuses more adapters, or has other sites or fusion settings (query/key/value).");
        return tensors.Select(t => OrtAdapterParameter.FromFloat32(t.Key, t.Value.Data, t.Value.Shape));
    }

    /// <summary>Every tensor the graph takes from one fusion folder, by slot name: its fused adapters' encoder tensors renamed by <see cref="FusionConfig.FusedParameter"/>, and its own fusion tensors.</summary>
    private static Dictionary<string, (float[] Data, long[] Shape)> Tensors(PeftAdapter fusion, FusedAdapterSet adapters)
    {
        var tensors = new Dictionary<string, (float[] Data, long[] Shape)>(StringComparer.Ordinal);
        for (var k = 0; k < adapters.Count; k++)
        {
            foreach (var t in adapters.Adapters[k].Tensors.Where(t => t.Key.InEncoder))
                tensors.Add(FusionConfig.FusedParameter(SideParameters.SlotName(t.Key), k), Finite(t, $"fused adapter {adapters.Names[k]}"));
        }
        foreach (var t in fusion.Tensors.Where(t => t.Key.InEncoder))
            tensors.Add(SideParameters.SlotName(t.Key), Finite(t, fusion.Directory));
        return tensors;
    }

    private static (float[] Data, long[] Shape) Finite(AdapterTensor tensor, string owner)
    {
        FiniteValues.Require(tensor.Data, $"{owner} tensor {tensor.Name}");
        return (Array.ConvertAll(tensor.Data, v => (float)v), tensor.Shape);
    }

}
