using PeftOnnx.Core.Numerics;

namespace PeftOnnx.Core.Adapters.Lora;

/// <summary>The LoRA tensors of one adapted module: A [r, in], B [out, r], DoRA magnitude [out], lora_B bias [out].</summary>
public sealed record LoraModuleWeights(string Module, Matrix64 A, Matrix64 B, double[]? Magnitude, double[]? BBias)
{
    public int Rank => A.Rows;

    /// <summary>Groups an adapter file's LoRA tensors by module and checks them against each other and the config.</summary>
    public static Dictionary<string, LoraModuleWeights> Collect(PeftAdapter adapter, LoraConfig config)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        ArgumentNullException.ThrowIfNull(config);
        var byModule = new Dictionary<string, Dictionary<string, AdapterTensor>>(StringComparer.Ordinal);
        foreach (var t in adapter.Tensors)
        {
            if (t.Key.Parameter is "lora_embedding_A" or "lora_embedding_B")
                throw new NotSupportedException($"{t.Name}: LoRA on embedding layers is not supported; target Linear layers (query, key, value, dense).");
            if (!t.Key.Parameter.StartsWith("lora_", StringComparison.Ordinal))
                continue;
            if (!t.Key.InEncoder)
                throw new InvalidDataException($"{t.Name}: LoRA tensors must belong to encoder modules.");
            if (!byModule.TryGetValue(t.Key.Module, out var parts))
                byModule[t.Key.Module] = parts = new(StringComparer.Ordinal);
            parts[t.Key.Parameter] = t;
        }

        var result = new Dictionary<string, LoraModuleWeights>(StringComparer.Ordinal);
        foreach (var (module, parts) in byModule)
        {
            var a = Require(parts, "lora_A.weight", module, adapter).AsMatrix();
            var b = Require(parts, "lora_B.weight", module, adapter).AsMatrix();
            if (parts["lora_A.weight"].Shape.Length != 2 || parts["lora_B.weight"].Shape.Length != 2)
                throw new InvalidDataException($"{module}: lora_A {parts["lora_A.weight"].ShapeText} and lora_B {parts["lora_B.weight"].ShapeText} must be matrices.");
            if (a.Rows != b.Cols)
                throw new InvalidDataException($"{module}: lora_A {a.Shape} and lora_B {b.Shape} disagree on the rank ({a.Rows} vs {b.Cols}).");
            var expectedRank = config.RankFor(module);
            if (a.Rows != expectedRank)
                throw new InvalidDataException($"{module}: lora_A {a.Shape} has rank {a.Rows} but the config gives r = {expectedRank} (r / rank_pattern); the scaling would be wrong.");

            double[]? magnitude = null;
            if (parts.TryGetValue("lora_magnitude_vector", out var m))
                magnitude = m.Data;
            if (config.UseDora && magnitude is null)
                throw new InvalidDataException($"{module}: use_dora is true but {adapter.Keys.LoraMagnitude(module)} is missing.");
            if (!config.UseDora && magnitude is not null)
                throw new InvalidDataException($"{module}: the file has lora_magnitude_vector but use_dora is false in the config.");

            double[]? bBias = null;
            if (parts.TryGetValue("lora_B.bias", out var bb))
                bBias = bb.Data;
            if (config.LoraBias != (bBias is not null))
                throw new InvalidDataException($"{module}: lora_bias is {config.LoraBias.ToString().ToLowerInvariant()} in the config but lora_B.bias is {(bBias is null ? "missing" : "present")}.");

            foreach (var t in parts.Values)
                FiniteValues.Require(t.Data, $"adapter tensor {t.Name}");
            result[module] = new LoraModuleWeights(module, a, b, magnitude, bBias);
        }
        return result;
    }

    private static AdapterTensor Require(Dictionary<string, AdapterTensor> parts, string parameter, string module, PeftAdapter adapter) =>
        parts.TryGetValue(parameter, out var t)
            ? t
            : throw new InvalidDataException($"{adapter.WeightsPath}: {module} has {string.Join(" and ", parts.Keys)} but no {parameter}.");
}
