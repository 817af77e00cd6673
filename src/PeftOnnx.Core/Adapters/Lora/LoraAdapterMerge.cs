using PeftOnnx.Core.Numerics;

namespace PeftOnnx.Core.Adapters.Lora;

/// <summary>
/// LoRA and DoRA folded into Linear layers: W' = W + s·B·A (LoRA) or (m/n)·(W + s·B·A) (DoRA, use_dora);
/// b' = b + s·lora_B.bias with lora_bias. The adapter file's shapes are the truth; the config supplies s.
/// </summary>
public sealed class LoraAdapterMerge : IAdapterMerge
{
    private readonly LoraConfig _config;
    private readonly Dictionary<string, LoraModuleWeights> _modules;
    private readonly List<string> _warnings = [];

    public LoraAdapterMerge(PeftAdapter adapter, LoraConfig config)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        _config = config ?? throw new ArgumentNullException(nameof(config));
        _modules = LoraModuleWeights.Collect(adapter, config);
        Replacements = [.. adapter.Tensors.Where(t => t.Key.InEncoder && t.Key.Parameter is "weight" or "bias")];
        if (config.FanInFanOut)
            _warnings.Add("fan_in_fan_out is true but the targets are Linear layers (weight [out, in]); ignored, as PEFT does.");
    }

    public IReadOnlyList<string> Modules => [.. _modules.Keys];
    public IReadOnlyList<AdapterTensor> Replacements { get; }
    public IReadOnlyList<string> Warnings => _warnings;

    /// <summary>The LoRA tensors of one module (for tests and reports).</summary>
    public LoraModuleWeights this[string module] => _modules[module];

    public MergedLinear Merge(string moduleName, Matrix64 weight, double[]? bias)
    {
        ArgumentNullException.ThrowIfNull(weight);
        var module = moduleName;
        if (!_modules.TryGetValue(module, out var m))
            throw new ArgumentException($"the adapter does not change {module}.", nameof(moduleName));
        if (m.A.Cols != weight.Cols || m.B.Rows != weight.Rows)
        {
            throw new InvalidDataException(
                $"shape mismatch at {module}: lora_A {m.A.Shape} and lora_B {m.B.Shape} give ΔW [{m.B.Rows}, {m.A.Cols}], " +
                $"but the base weight is {weight.Shape} ([out, in]); the adapter was trained on a different base model.");
        }
        var scale = _config.ScaleFor(module);
        Matrix64 merged;
        if (m.Magnitude is { } magnitude)
        {
            if (magnitude.Length != weight.Rows)
                throw new InvalidDataException($"shape mismatch at {module}: lora_magnitude_vector [{magnitude.Length}] but the base weight is {weight.Shape} ([out, in]).");
            merged = DoraMerge.Merge(weight, m.A, m.B, scale, magnitude);
        }
        else
        {
            merged = weight.Clone();
            var delta = LoraDelta.Compute(m.A, m.B, scale);
            for (var i = 0; i < merged.Data.Length; i++)
                merged.Data[i] += delta.Data[i];
        }

        var mergedBias = bias is null ? null : (double[])bias.Clone();
        if (m.BBias is { } bBias)
        {
            if (mergedBias is null)
                throw new InvalidDataException($"{module}: lora_bias is set but the base layer has no bias to merge it into.");
            if (bBias.Length != mergedBias.Length)
                throw new InvalidDataException($"shape mismatch at {module}: lora_B.bias [{bBias.Length}] but the base bias is [{mergedBias.Length}].");
            for (var o = 0; o < mergedBias.Length; o++)
                mergedBias[o] += scale * bBias[o];
        }
        return AdapterMerge.RequireFinite(new MergedLinear(merged, mergedBias), module);
    }
}
