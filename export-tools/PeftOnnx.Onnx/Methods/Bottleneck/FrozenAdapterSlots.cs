using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Bottleneck;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.OrtAdapters;
using PeftOnnx.Onnx.Side;

namespace PeftOnnx.Onnx.Methods.Bottleneck;

/// <summary>
/// The side-graph inputs of a composition (fusion, stack) folder: its frozen adapters' encoder tensors under
/// <see cref="FrozenAdapterSet.Parameter"/> names and its own encoder tensors under their names, as the graph takes them.
/// </summary>
public static class FrozenAdapterSlots
{
    /// <summary>Every encoder tensor of <paramref name="owner"/> and its <paramref name="frozen"/> adapters, by slot name, checked finite.</summary>
    public static Dictionary<string, (float[] Data, long[] Shape)> Tensors(PeftAdapter owner, FrozenAdapterSet frozen)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(frozen);
        var tensors = new Dictionary<string, (float[] Data, long[] Shape)>(StringComparer.Ordinal);
        for (var k = 0; k < frozen.Count; k++)
        {
            foreach (var t in frozen.Adapters[k].Tensors.Where(t => t.Key.InEncoder))
                Add(tensors, FrozenAdapterSet.Parameter(SideParameters.SlotName(t.Key), k), t, $"{frozen.Role} {frozen.Names[k]}");
        }
        foreach (var t in owner.Tensors.Where(t => t.Key.InEncoder))
            Add(tensors, SideParameters.SlotName(t.Key), t, owner.Directory);
        return tensors;
    }

    /// <summary>
    /// <paramref name="tensors"/> as the adapter file's parameters, after checking they fill the graph's encoder inputs
    /// exactly; <paramref name="differs"/> says what would make them differ, for the error.
    /// </summary>
    public static IEnumerable<OrtAdapterParameter> Parameters(PeftAdapter owner, IReadOnlyDictionary<string, (float[] Data, long[] Shape)> tensors, SideGraphManifest side, string differs)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(side);
        var slots = side.Parameters.Where(p => !p.Name.StartsWith("classifier.", StringComparison.Ordinal)).ToDictionary(p => p.Name, StringComparer.Ordinal);
        var extra = tensors.Keys.Where(k => !slots.ContainsKey(k)).ToList();
        if (extra.Count > 0)
            throw new InvalidDataException($"{owner.Directory}: {extra[0]} has no input in this {side.PeftType} side graph; {differs}.");
        var missing = slots.Keys.Where(k => !tensors.ContainsKey(k)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{owner.Directory} lacks {string.Join(", ", missing.Take(4))}{(missing.Count > 4 ? $" ({missing.Count} in all)" : "")}, which this {side.PeftType} side graph takes; {differs}.");
        return tensors.Select(t => OrtAdapterParameter.FromFloat32(t.Key, t.Value.Data, t.Value.Shape));
    }

    private static void Add(Dictionary<string, (float[] Data, long[] Shape)> tensors, string slot, AdapterTensor tensor, string owner)
    {
        FiniteValues.Require(tensor.Data, $"{owner} tensor {tensor.Name}");
        if (!tensors.TryAdd(slot, (Array.ConvertAll(tensor.Data, v => (float)v), tensor.Shape)))
            throw new InvalidDataException($"{owner}: tensor {tensor.Name} fills slot {slot} twice; the folder's own weights must not use a frozen adapter's names.");
    }
}
