using PeftOnnx.Core.Numerics;

namespace PeftOnnx.Core.Adapters.Ia3;

/// <summary>IA3 vectors folded into their Linear layers (see <see cref="Ia3Merge"/>).</summary>
public sealed class Ia3AdapterMerge : IAdapterMerge
{
    private readonly Dictionary<string, AdapterTensor> _vectors = new(StringComparer.Ordinal);
    private readonly List<string> _warnings = [];

    public Ia3AdapterMerge(PeftAdapter adapter, Ia3Config config)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        ArgumentNullException.ThrowIfNull(config);
        foreach (var t in adapter.Tensors.Where(t => t.Key.Parameter == "ia3_l"))
        {
            if (t.Shape.Length != 2 || (t.Shape[0] != 1 && t.Shape[1] != 1))
                throw new InvalidDataException($"{t.Name} has shape {t.ShapeText}; IA3 vectors are [out, 1] or [1, in].");
            // The shape is the truth; a contradiction with feedforward_modules means the file and config do not belong together.
            var feedforward = t.Shape[0] == 1 && t.Shape[1] != 1;
            if (feedforward != config.IsFeedforward(t.Key.Module) && t.Shape[0] != t.Shape[1])
            {
                throw new InvalidDataException(
                    $"{t.Name} has shape {t.ShapeText} ({(feedforward ? "input" : "output")} scaling) but feedforward_modules {config.FeedforwardModules?.ToString() ?? "null"} " +
                    $"says {t.Key.Module} is {(feedforward ? "not " : "")}feed-forward.");
            }
            FiniteValues.Require(t.Data, $"adapter tensor {t.Name}");
            _vectors[t.Key.Module] = t;
        }
        Replacements = [.. adapter.Tensors.Where(t => t.Key.InEncoder && t.Key.Parameter is "weight" or "bias")];
        if (config.FanInFanOut)
            _warnings.Add("fan_in_fan_out is true but the targets are Linear layers (weight [out, in]); ignored, as PEFT does.");
    }

    public IReadOnlyList<string> Modules => [.. _vectors.Keys];
    public IReadOnlyList<AdapterTensor> Replacements { get; }
    public IReadOnlyList<string> Warnings => _warnings;

    public MergedLinear Merge(string moduleName, Matrix64 weight, double[]? bias)
    {
        ArgumentNullException.ThrowIfNull(weight);
        var module = moduleName;
        if (!_vectors.TryGetValue(module, out var l))
            throw new ArgumentException($"the adapter does not change {module}.", nameof(moduleName));
        var scaling = l.AsMatrix();
        var fitsOutput = scaling.Cols == 1 && scaling.Rows == weight.Rows;
        var fitsInput = scaling.Rows == 1 && scaling.Cols == weight.Cols;
        if (!fitsOutput && !fitsInput)
        {
            throw new InvalidDataException(
                $"shape mismatch at {module}: ia3_l {l.ShapeText} fits neither the output [{weight.Rows}, 1] nor the input [1, {weight.Cols}] " +
                $"of the base weight {weight.Shape} ([out, in]); the adapter was trained on a different base model.");
        }
        return AdapterMerge.RequireFinite(Ia3Merge.Merge(weight, bias, scaling), module);
    }
}
