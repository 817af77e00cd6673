using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.OrtAdapters;

namespace PeftOnnx.Onnx.Side;

/// <summary>
/// The fixed-shape adapter inputs of prompt, prefix and bottleneck side graphs: each graph input is named like the
/// adapter tensor it takes (<c>prompt_embeddings</c>, <c>encoder.layer.0.output.adapter.down.weight</c>) and keeps
/// the tensor's own layout, so an adapter file is the adapter's tensors renamed, nothing recomputed.
/// </summary>
public static class SideParameters
{
    public static string SlotName(AdapterKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Module.Length == 0 ? key.Parameter : $"{key.Module}.{key.Parameter}";
    }

    /// <summary>prompt_embeddings as float32, checked to be [<paramref name="rows"/>, <paramref name="cols"/>] and finite (prompt and prefix tuning).</summary>
    public static float[] PromptTable(PeftAdapter adapter, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        var tensor = adapter.Get(PeftKeys.PromptEmbeddings);
        if (!tensor.Shape.SequenceEqual(new long[] { rows, cols }))
            throw new InvalidDataException($"{adapter.WeightsPath}: {PeftKeys.PromptEmbeddings} is {tensor.ShapeText}, the config says [{rows}, {cols}].");
        FiniteValues.Require(tensor.Data, $"adapter tensor {tensor.Name}");
        return Array.ConvertAll(tensor.Data, v => (float)v);
    }

    public static IEnumerable<OrtAdapterParameter> Collect(PeftAdapter adapter, SideGraphManifest side)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        ArgumentNullException.ThrowIfNull(side);
        var slots = side.Parameters.Where(p => !p.Name.StartsWith("classifier.", StringComparison.Ordinal)).ToDictionary(p => p.Name, StringComparer.Ordinal);
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tensor in adapter.Tensors.Where(t => t.Key.InEncoder || t.Key.Module.Length == 0))
        {
            var name = SlotName(tensor.Key);
            if (!slots.ContainsKey(name))
                throw new InvalidDataException($"{adapter.Directory}: tensor {tensor.Name} ({name}) has no input in this {side.PeftType} side graph; the adapter was made with another configuration (layers, variant) or base model.");
            FiniteValues.Require(tensor.Data, $"adapter tensor {tensor.Name}");
            used.Add(name);
            yield return OrtAdapterParameter.FromFloat32(name, Array.ConvertAll(tensor.Data, v => (float)v), tensor.Shape);
        }
        var missing = slots.Keys.Where(k => !used.Contains(k)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{adapter.Directory} lacks {string.Join(", ", missing.Take(4))}{(missing.Count > 4 ? $" ({missing.Count} in all)" : "")}, which this side graph takes.");
    }
}
