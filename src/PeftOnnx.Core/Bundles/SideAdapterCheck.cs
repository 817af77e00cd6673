using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.OrtAdapters;

namespace PeftOnnx.Core.Bundles;

/// <summary>
/// Checks an adapter file against a side-graph bundle before anything runs it: every parameter must name an adapter
/// input of the graph, with the graph's feature sizes, a rank within <see cref="SideGraphManifest.MaxRank"/> and float32
/// data with finite values that cannot overflow float32. Errors name the parameter, both shapes and what to do.
/// </summary>
public static class SideAdapterCheck
{
    /// <summary>Throws <see cref="InvalidDataException"/> for the first problem; returns the adapter's highest LoRA rank.</summary>
    public static int Validate(SideGraphManifest side, OrtAdapterFile adapter, string source)
    {
        ArgumentNullException.ThrowIfNull(side);
        ArgumentNullException.ThrowIfNull(adapter);
        if (adapter.Parameters.Count == 0)
            throw new InvalidDataException($"{source} holds no parameters.");
        var expected = side.BaseIdentity().Fingerprint;
        // model_version 0: written by a tool that records no base (ONNX Runtime's own writer); the shapes are all there is to check.
        if (adapter.ModelVersion != 0 && expected != 0 && adapter.ModelVersion != expected)
        {
            throw new InvalidDataException(
                $"{source} was converted for another base model (model_version {adapter.ModelVersion}) but this bundle serves {side.BaseIdentity()} " +
                $"(model_version {expected}); an adapter scores wrong on another base even when the shapes fit. Convert the adapter for this bundle's base " +
                $"(peftonnx-export export --mode {side.Form}), or with {Adapters.AdapterBaseCheck.OverrideFlag} if you know the weights are the same.");
        }
        var a = side.Lora.ToDictionary(s => SideName(s.AInput), StringComparer.Ordinal);
        var b = side.Lora.ToDictionary(s => SideName(s.BInput), StringComparer.Ordinal);
        var fixedSlots = side.Parameters.ToDictionary(p => p.Name, StringComparer.Ordinal);
        var ranks = new Dictionary<string, long>(StringComparer.Ordinal);
        var maxRank = 0;
        foreach (var p in adapter.Parameters)
        {
            if (p.DataType != OrtAdapterDataType.Float)
                throw new InvalidDataException($"{source}: parameter {p.Name} is {p.DataType}; this bundle ({side.BaseModel}, fp32) takes FLOAT adapter parameters.");
            if (a.TryGetValue(p.Name, out var slotA))
            {
                Require(p.Dims.Length == 2 && p.Dims[0] == slotA.InFeatures, source, p, $"[{slotA.InFeatures}, r]", slotA.Module);
                var rank = (int)p.Dims[1];
                if (rank < 1 || rank > side.MaxRank)
                    throw new InvalidDataException($"{source}: {slotA.Module} has LoRA rank {rank}, above this bundle's limit of {side.MaxRank}; re-export the bundle with --max-rank {rank} or more, or train with a smaller r.");
                Same(ranks, slotA.Module, rank, source);
                maxRank = Math.Max(maxRank, rank);
            }
            else if (b.TryGetValue(p.Name, out var slotB))
            {
                Require(p.Dims.Length == 2 && p.Dims[1] == slotB.OutFeatures, source, p, $"[r, {slotB.OutFeatures}]", slotB.Module);
                Same(ranks, slotB.Module, p.Dims[0], source);
            }
            else if (fixedSlots.TryGetValue(p.Name, out var slot))
            {
                Require(p.Dims.SequenceEqual(slot.Shape), source, p, "[" + string.Join(", ", slot.Shape) + "]", slot.Name);
            }
            else
            {
                var known = side.Lora.Select(s => s.Module).Concat(side.Parameters.Select(s => s.Name)).ToList();
                throw new InvalidDataException(
                    $"{source}: parameter {p.Name} matches no adapter input of this {side.BaseModel} side graph (it takes {string.Join(", ", known.Take(8))}{(known.Count > 8 ? $", ... {known.Count} in all" : "")}); " +
                    "the adapter targets a module the graph has no branch for, or was made for another base model.");
            }
        }
        var half = ranks.Keys.FirstOrDefault(m => adapter.Parameters.Count(p => p.Name == SideName(Slot(side, m).AInput) || p.Name == SideName(Slot(side, m).BInput)) != 2);
        if (half is not null)
            throw new InvalidDataException($"{source}: {half} has only one of lora_A and lora_B; an adapter sets both.");
        CheckValues(side, adapter, source);
        return maxRank;
    }

    /// <summary>
    /// Largest input magnitude a LoRA branch must carry without overflowing float32: the hidden states it reads
    /// (after LayerNorm or GELU) stay within ±100 in BERT-family encoders; this leaves a factor of 100 to spare.
    /// </summary>
    public const double ActivationBound = 1e4;

    /// <summary>
    /// Refuses NaN/Inf values (PEFT's safe_merge rule, as every merge here) and LoRA pairs whose update B·A can carry
    /// an input of <see cref="ActivationBound"/> past float32's range: such an adapter answers NaN for every text.
    /// </summary>
    private static void CheckValues(SideGraphManifest side, OrtAdapterFile adapter, string source)
    {
        var values = adapter.Parameters.ToDictionary(p => p.Name, p => p.ToFloat32(), StringComparer.Ordinal);
        foreach (var (name, data) in values)
            FiniteValues.Require(data, $"{source}: parameter {name}");
        foreach (var slot in side.Lora)
        {
            if (!values.TryGetValue(SideName(slot.AInput), out var a) || !values.TryGetValue(SideName(slot.BInput), out var b))
                continue;
            var gain = Gain(a, b, slot.InFeatures, slot.OutFeatures);
            if (gain * ActivationBound > float.MaxValue)
            {
                throw new InvalidDataException(
                    $"{source}: the LoRA update of {slot.Module} multiplies its input by up to {gain:E2}, so inputs above {float.MaxValue / gain:E2} overflow float32 " +
                    $"(the limit is {float.MaxValue / ActivationBound:E2}); the adapter is broken: retrain it or export it again from a sane checkpoint.");
            }
        }
    }

    /// <summary>An upper bound of max_j Σ_i |(A·B)_ij| for A [in, r] and B [r, out] (row-major), in float64.</summary>
    private static double Gain(float[] a, float[] b, int inFeatures, int outFeatures)
    {
        var rank = a.Length / Math.Max(inFeatures, 1);
        var columnSums = new double[rank]; // Σ_i |A_ik|
        for (var i = 0; i < inFeatures; i++)
        {
            for (var k = 0; k < rank; k++)
                columnSums[k] += Math.Abs(a[i * rank + k]);
        }
        var gain = 0.0;
        for (var j = 0; j < outFeatures; j++)
        {
            var sum = 0.0;
            for (var k = 0; k < rank; k++)
                sum += columnSums[k] * Math.Abs(b[k * outFeatures + j]);
            gain = Math.Max(gain, sum);
        }
        return gain;
    }

    /// <summary>The per-run input name of a slot: the mixed form's stacked inputs end in "_stack", the adapter file names the plain one.</summary>
    public static string SideName(string input) => input.EndsWith(StackSuffix, StringComparison.Ordinal) ? input[..^StackSuffix.Length] : input;

    public const string StackSuffix = "_stack";

    private static SideLoraSlot Slot(SideGraphManifest side, string module) => side.Lora.First(s => s.Module == module);

    private static void Same(Dictionary<string, long> ranks, string module, long rank, string source)
    {
        if (ranks.TryGetValue(module, out var other) && other != rank)
            throw new InvalidDataException($"{source}: {module} has lora_A rank {other} but lora_B rank {rank}; the adapter file is inconsistent.");
        ranks[module] = rank;
    }

    private static void Require(bool ok, string source, OrtAdapterParameter p, string expected, string module)
    {
        if (!ok)
            throw new InvalidDataException($"{source}: shape mismatch at {module}: parameter {p.Name} is {p.ShapeText}, the graph takes {expected}; the adapter was made for another base model.");
    }
}
