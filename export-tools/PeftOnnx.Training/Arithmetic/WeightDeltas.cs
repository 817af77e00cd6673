using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Numerics;
using PeftOnnx.Onnx.Export;

namespace PeftOnnx.Training.Arithmetic;

/// <summary>ΔW = W_tuned - W_base of one Linear layer, [out, in], and ‖W_base‖_F for the relative size.</summary>
public sealed record ModuleDelta(string Module, Matrix64 Delta, double BaseNorm);

/// <summary>A kind of parameter a fine-tune changed that LoRA cannot carry: how many tensors and values, ‖Δ‖_F and ‖W_base‖_F.</summary>
public sealed record DroppedChange(string Kind, int Tensors, long Values, double DeltaNorm, double BaseNorm);

/// <summary>
/// What a fine-tune changed relative to its base: the Linear weight deltas LoRA can carry, the changes it cannot
/// (Linear biases, LayerNorm, embedding tables), and the modules it saves whole (the classifier, under PEFT names).
/// </summary>
public sealed record WeightDeltas(IReadOnlyList<ModuleDelta> Linears, IReadOnlyList<DroppedChange> Dropped, IReadOnlyList<AdapterTensor> Saved, string? TaskType, IReadOnlyList<string>? ModulesToSave, string? BaseModelNameOrPath)
{
    private const string SequenceClassification = "SEQ_CLS";

    /// <summary>A full fine-tune or probe (transformers folder): every parameter against the base's.</summary>
    /// <param name="baseWeights">The base's state dict (torch layout).</param>
    public static WeightDeltas FromFineTuned(IReadOnlyDictionary<string, (float[] Data, long[] Shape)> baseWeights, FineTunedModelFolder folder)
    {
        ArgumentNullException.ThrowIfNull(baseWeights);
        ArgumentNullException.ThrowIfNull(folder);
        var tuned = folder.ReadEncoder(baseWeights);
        var linears = new List<ModuleDelta>();
        var dropped = new Dictionary<string, (int Tensors, long Values, double Delta2, double Base2)>(StringComparer.Ordinal);
        foreach (var (key, (baseData, shape)) in baseWeights)
        {
            var data = tuned[key].Data;
            if (IsLinearWeight(key, shape))
            {
                var delta = new Matrix64((int)shape[0], (int)shape[1], [.. data.Zip(baseData, (t, b) => (double)t - b)]);
                if (delta.Data.Any(v => v != 0))
                    linears.Add(new ModuleDelta(key[..^".weight".Length], delta, Norm(baseData.Select(v => (double)v))));
                continue;
            }
            var change = Norm(data.Zip(baseData, (t, b) => (double)t - b));
            if (change != 0)
                Add(dropped, KindOf(key, baseWeights), data.Length, change, Norm(baseData.Select(v => (double)v)));
        }
        var (weight, bias) = folder.ReadClassifier();
        AdapterTensor Saved(string parameter, double[] values, long[] shape) =>
            new(new AdapterKey(PeftKeys.SavedModule("classifier", parameter), "classifier", parameter, InEncoder: false), shape, values);
        return new WeightDeltas(linears, Summarize(dropped), [Saved("weight", weight.Data, [weight.Rows, weight.Cols]), Saved("bias", bias, [bias.Length])],
            SequenceClassification, ["classifier"], null);
    }

    /// <summary>A mergeable PEFT adapter (LoRA of any rank, DoRA, IA3): each module's merged weight minus the base's, from the registry's merge.</summary>
    public static WeightDeltas FromAdapter(IReadOnlyDictionary<string, (float[] Data, long[] Shape)> baseWeights, PeftAdapter adapter)
    {
        ArgumentNullException.ThrowIfNull(baseWeights);
        ArgumentNullException.ThrowIfNull(adapter);
        var merge = AdapterMerge.For(adapter);
        var linears = new List<ModuleDelta>();
        var dropped = new Dictionary<string, (int Tensors, long Values, double Delta2, double Base2)>(StringComparer.Ordinal);
        foreach (var module in merge.Modules)
        {
            if (!baseWeights.TryGetValue(module + ".weight", out var w) || !IsLinearWeight(module + ".weight", w.Shape))
                throw new InvalidDataException($"{adapter.Directory} adapts {module}, which the base model has no Linear layer for; the adapter was made for a different base model.");
            var weight = Matrix64.FromFloat32((int)w.Shape[0], (int)w.Shape[1], w.Data);
            var bias = baseWeights.TryGetValue(module + ".bias", out var b) ? b.Data.Select(v => (double)v).ToArray() : null;
            var merged = merge.Merge(module, weight, bias);
            var delta = new Matrix64(weight.Rows, weight.Cols, [.. merged.Weight.Data.Zip(weight.Data, (m, o) => m - o)]);
            if (delta.Data.Any(v => v != 0))
                linears.Add(new ModuleDelta(module, delta, Norm(weight.Data)));
            if (bias is not null && merged.Bias is not null && Norm(merged.Bias.Zip(bias, (m, o) => m - o)) is var biasChange && biasChange != 0)
                Add(dropped, "Linear biases", bias.Length, biasChange, Norm(bias));
        }
        foreach (var replacement in merge.Replacements)
        {
            var key = $"{replacement.Key.Module}.{replacement.Key.Parameter}";
            var original = baseWeights.TryGetValue(key, out var o) ? o.Data.Select(v => (double)v).ToArray() : new double[replacement.Data.Length];
            Add(dropped, KindOf(key, baseWeights), replacement.Data.Length, Norm(replacement.Data.Zip(original, (r, x) => r - x)), Norm(original));
        }
        var saved = adapter.Tensors.Where(t => !t.Key.InEncoder && !AdapterMethods.IsMethodParameter(t.Key.Parameter)).ToList();
        return new WeightDeltas(linears, Summarize(dropped), saved, adapter.Config.TaskType, saved.Count > 0 ? adapter.Config.ModulesToSave : null, adapter.Config.BaseModelNameOrPath);
    }

    // 2-D weights outside the embeddings are the Linear layers of a BERT-family encoder (LayerNorm weights are 1-D).
    private static bool IsLinearWeight(string key, long[] shape) =>
        shape.Length == 2 && key.EndsWith(".weight", StringComparison.Ordinal) && !key.StartsWith("embeddings.", StringComparison.Ordinal);

    private static string KindOf(string key, IReadOnlyDictionary<string, (float[] Data, long[] Shape)> baseWeights) =>
        key.Contains("LayerNorm", StringComparison.Ordinal) ? "LayerNorm"
        : key.StartsWith("embeddings.", StringComparison.Ordinal) ? "embeddings"
        : key.EndsWith(".bias", StringComparison.Ordinal) ? "Linear biases"
        : "other";

    private static void Add(Dictionary<string, (int Tensors, long Values, double Delta2, double Base2)> dropped, string kind, long values, double deltaNorm, double baseNorm)
    {
        var (t, v, d, b) = dropped.GetValueOrDefault(kind);
        dropped[kind] = (t + 1, v + values, d + (deltaNorm * deltaNorm), b + (baseNorm * baseNorm));
    }

    private static DroppedChange[] Summarize(Dictionary<string, (int Tensors, long Values, double Delta2, double Base2)> dropped) =>
        [.. dropped.Select(kv => new DroppedChange(kv.Key, kv.Value.Tensors, kv.Value.Values, Math.Sqrt(kv.Value.Delta2), Math.Sqrt(kv.Value.Base2)))];

    private static double Norm(IEnumerable<double> values) => Math.Sqrt(values.Sum(v => v * v));
}
