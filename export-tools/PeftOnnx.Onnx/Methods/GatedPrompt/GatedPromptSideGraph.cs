using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.GatedPrompt;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.OrtAdapters;
using PeftOnnx.Onnx.Methods.Lora;
using PeftOnnx.Onnx.Passes;
using PeftOnnx.Onnx.Side;

namespace PeftOnnx.Onnx.Methods.GatedPrompt;

/// <summary>
/// Gated prompts as a side graph (<see cref="GatedPromptPass"/>). The prompt's keys and values depend only on the
/// adapter and the base's key/value projections, so conversion computes them once (float64): keys = P·Wkᵀ + bk and
/// values = gate ⊙ (P·Wvᵀ + bv), the per-head gate scaling that head's columns. Layers an adapter does not prompt get
/// zero keys and values, which add exactly 0; rows of one batch may use different adapters (the mixed form) when
/// they share the prompt length.
/// </summary>
public sealed class GatedPromptSideGraph : ISideGraphMethod
{
    public static GatedPromptSideGraph Method { get; } = new();

    public string PeftType => GatedPromptConfig.TypeName;

    public bool MixedBatches => true;

    public SideGraphManifest Build(SideGraphRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var configs = request.Adapters.Select(a => (a, (GatedPromptConfig)a.Config)).ToList();
        var length = configs[0].Item2.AdapterLen;
        var other = configs.FirstOrDefault(c => c.Item2.AdapterLen != length);
        if (other.a is not null)
            throw new InvalidDataException($"{other.a.Directory} has {other.Item2.AdapterLen} prompt rows but {configs[0].a.Directory} has {length}; one bundle serves one prompt length (a padded row would take softmax weight).");
        var layerCount = request.Map.LayerCount;
        var layers = configs.SelectMany(c => c.Item2.LayersOf(layerCount)).Distinct().Order().ToList();
        var heads = Gates(request.Adapters[0]).First().Value.Length;
        request.Progress?.Report($"adding gated prompts ({length} rows, {heads} heads) to layers {string.Join(", ", layers)}{(request.Mixed ? ", mixed batches" : "")}");
        var slots = request.Model.Applied(new GatedPromptPass(request.Map, layers, length, heads, request.Mixed ? MixedLoraPass.AdapterIndexInput : null)).Slots;
        return new SideGraphManifest
        {
            Form = request.Options.Form,
            PeftType = PeftType,
            BaseModel = request.BaseName,
            AdapterIndexInput = request.Mixed ? MixedLoraPass.AdapterIndexInput : null,
            Parameters = slots,
        };
    }

    public IEnumerable<OrtAdapterParameter> Parameters(PeftAdapter adapter, SideGraphManifest side, SideBaseWeights baseWeights)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        ArgumentNullException.ThrowIfNull(side);
        ArgumentNullException.ThrowIfNull(baseWeights);
        var config = (GatedPromptConfig)adapter.Config;
        var keySlots = side.Parameters.Where(p => p.Name.EndsWith(".gated_prompt." + GatedPromptPass.KeyName, StringComparison.Ordinal)).ToList();
        if (keySlots.Count == 0)
            throw new InvalidDataException($"{adapter.Directory} is a gated-prompt adapter, but this side graph has no gated-prompt inputs.");
        var (length, hidden) = ((int)keySlots[0].Shape[0], (int)keySlots[0].Shape[1]);
        if (config.AdapterLen != length)
            throw new InvalidDataException($"{adapter.Directory} has {config.AdapterLen} prompt rows; this bundle takes {length}.");
        var prompts = Prompts(adapter, length, hidden);
        var gates = Gates(adapter);
        var graphLayers = keySlots.ToDictionary(s => s.Name[..^(".gated_prompt." + GatedPromptPass.KeyName).Length], s => s);
        var missing = prompts.Keys.Where(m => !graphLayers.ContainsKey(m[..^".gated_prompt".Length])).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{adapter.Directory} prompts {string.Join(", ", missing)}, which have no gated-prompt input in this bundle (it has {string.Join(", ", graphLayers.Keys)}); export the bundle with this adapter.");
        foreach (var layerPrefix in graphLayers.Keys)
        {
            var module = layerPrefix + ".gated_prompt";
            var keys = new float[length * hidden];
            var values = new float[length * hidden];
            if (prompts.TryGetValue(module, out var prompt))
            {
                var gate = gates.GetValueOrDefault(module) ?? throw new InvalidDataException($"{adapter.Directory} lacks {module}.{GatedPromptConfig.Gate}.");
                if (hidden % gate.Length != 0)
                    throw new InvalidDataException($"{adapter.Directory}: {module}.{GatedPromptConfig.Gate} has {gate.Length} heads, which do not divide the hidden size {hidden}.");
                var headDim = hidden / gate.Length;
                Project(prompt, baseWeights, $"{layerPrefix}.key", length, hidden, (t, o, v) => keys[t * hidden + o] = (float)v);
                Project(prompt, baseWeights, $"{layerPrefix}.value", length, hidden, (t, o, v) => values[t * hidden + o] = (float)(gate[o / headDim] * v));
            }
            yield return OrtAdapterParameter.FromFloat32($"{module}.{GatedPromptPass.KeyName}", keys, length, hidden);
            yield return OrtAdapterParameter.FromFloat32($"{module}.{GatedPromptPass.ValueName}", values, length, hidden);
        }
    }

    /// <summary>P·Wᵀ + b in float64 for the base Linear <paramref name="linear"/> (weight [out, in]).</summary>
    private static void Project(double[] prompt, SideBaseWeights baseWeights, string linear, int length, int hidden, Action<int, int, double> set)
    {
        var (weight, shape) = baseWeights[linear + ".weight"];
        var (bias, _) = baseWeights[linear + ".bias"];
        if (shape[0] != hidden || shape[1] != hidden)
            throw new InvalidDataException($"the base's {linear}.weight is [{string.Join(", ", shape)}]; gated prompts of hidden size {hidden} need [{hidden}, {hidden}].");
        for (var t = 0; t < length; t++)
        {
            for (var o = 0; o < hidden; o++)
            {
                double sum = bias[o];
                for (var i = 0; i < hidden; i++)
                    sum += prompt[t * hidden + i] * weight[o * hidden + i];
                set(t, o, sum);
            }
        }
    }

    /// <summary>adaption_prompt [K, hidden] of every prompted layer, by module, checked and finite.</summary>
    private static Dictionary<string, double[]> Prompts(PeftAdapter adapter, int length, int hidden)
    {
        var prompts = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var tensor in adapter.Tensors.Where(t => t.Key.InEncoder))
        {
            if (!tensor.Key.Module.EndsWith(".attention.self.gated_prompt", StringComparison.Ordinal) || tensor.Key.Parameter is not (GatedPromptConfig.Prompt or GatedPromptConfig.Gate))
                throw new InvalidDataException($"{adapter.Directory}: tensor {tensor.Name} is not a gated-prompt tensor (expected encoder.layer.N.attention.self.gated_prompt.{{{GatedPromptConfig.Prompt}, {GatedPromptConfig.Gate}}}).");
            if (tensor.Key.Parameter != GatedPromptConfig.Prompt)
                continue;
            if (!tensor.Shape.SequenceEqual(new long[] { length, hidden }))
                throw new InvalidDataException($"{adapter.Directory}: {tensor.Name} is {tensor.ShapeText}; this bundle takes [{length}, {hidden}] (prompt rows, hidden).");
            FiniteValues.Require(tensor.Data, $"adapter tensor {tensor.Name}");
            prompts[tensor.Key.Module] = tensor.Data;
        }
        return prompts;
    }

    /// <summary>adaption_gate [heads] of every prompted layer, by module, finite.</summary>
    private static Dictionary<string, double[]> Gates(PeftAdapter adapter)
    {
        var gates = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var tensor in adapter.Tensors.Where(t => t.Key.InEncoder && t.Key.Parameter == GatedPromptConfig.Gate))
        {
            if (tensor.Shape.Length != 1 || tensor.Shape[0] <= 0)
                throw new InvalidDataException($"{adapter.Directory}: {tensor.Name} is {tensor.ShapeText}; a gate is [heads].");
            FiniteValues.Require(tensor.Data, $"adapter tensor {tensor.Name}");
            gates[tensor.Key.Module] = tensor.Data;
        }
        if (gates.Count == 0)
            throw new InvalidDataException($"{adapter.Directory} has no {GatedPromptConfig.Gate} tensor.");
        return gates;
    }
}
