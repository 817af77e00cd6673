using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Lora;
using PeftOnnx.Core.Numerics;

namespace PeftOnnx.Training.Arithmetic;

/// <summary>One input of a merge: the adapter, the name errors call it by, and its weight.</summary>
public sealed record WeightedAdapter(string Name, PeftAdapter Adapter, double Weight);

/// <summary>The options of PEFT's add_weighted_adapter, plus the seed of DARE's masks and whose head the result keeps.</summary>
public sealed record WeightedMergeOptions
{
    public required CombinationType Combination { get; init; }

    /// <summary>Fraction kept by the pruning types, in (0, 1]; null for the others.</summary>
    public double? Density { get; init; }

    public MajoritySignMethod MajoritySign { get; init; } = MajoritySignMethod.Total;

    /// <summary>Rank of the _svd types' result; null: the largest input rank (PEFT's default).</summary>
    public int? SvdRank { get; init; }

    /// <summary>PEFT's svd_clamp quantile, or null.</summary>
    public double? SvdClamp { get; init; }

    public ulong Seed { get; init; }

    /// <summary>The adapter whose modules_to_save tensors (the classifier) the result carries; needed when several have one.</summary>
    public string? Head { get; init; }
}

/// <summary>
/// Hugging Face PEFT's <c>LoraModel.add_weighted_adapter</c> (peft/tuners/lora/model.py, PEFT 0.21 with PR #3449) on
/// adapter folders, in float64, module by module over the union of the adapters' modules:
/// <list type="bullet">
/// <item>cat: A = [w_1·s_1·A_1; w_2·s_2·A_2; …] stacked on the rank, B = [B_1, B_2, …]; ΔW = Σ w_i·s_i·B_i·A_i exactly.</item>
/// <item>linear, ties, dare_linear, dare_ties, magnitude_prune (<c>_generalized_task_arithmetic_weighted_adapter</c>):
/// the merge runs on the A matrices with weights sign(w·s)·sqrt(|w·s|) and on the B matrices with sqrt(|w·s|) separately,
/// so ΔW = (Σ √·B_i)(Σ ±√·A_i) carries cross terms B_i·A_j.</item>
/// <item>the _svd types (<c>_svd_generalized_task_arithmetic_weighted_adapter</c>): the merge runs on the full deltas
/// s_i·B_i·A_i with weights w_i·s_i (so s appears twice, as in PEFT), then <see cref="TruncatedSvd"/>.</item>
/// </list>
/// The result has r = the new rank and lora_alpha = r (scaling 1), rank/alpha patterns cleared, use_rslora false (PR
/// #3449), target_modules the union of the inputs' (list) or their regexes joined by "|". Inputs must be plain LoRA
/// (no DoRA, lora_bias or trained biases), for one task type, with one kind of target_modules and the same layers.
/// </summary>
public static class WeightedAdapterMerge
{
    /// <param name="baseWeights">The base encoder's state dict (torch layout): every module must exist there with the adapters' shapes.</param>
    public static DerivedLoraAdapter Merge(IReadOnlyList<WeightedAdapter> adapters, WeightedMergeOptions options, IReadOnlyDictionary<string, (float[] Data, long[] Shape)> baseWeights, ICollection<string> notes)
    {
        ArgumentNullException.ThrowIfNull(adapters);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(baseWeights);
        ArgumentNullException.ThrowIfNull(notes);
        var configs = CheckInputs(adapters, options);
        var combination = options.Combination;
        if (adapters.Count == 1 && combination.Name != "linear")
        {
            notes.Add($"one adapter: --method {combination} becomes linear, as in PEFT (a single adapter is only rescaled).");
            combination = CombinationType.Parse("linear");
        }

        var modules = adapters.Select((a, i) => LoraModuleWeights.Collect(a.Adapter, configs[i])).ToArray();
        var ranks = configs.Select(c => c.RankPattern.Count == 0 ? c.R : Math.Max(c.R, c.RankPattern.Values.Max())).ToArray();
        if (combination.NeedsEqualRanks && ranks.Distinct().Count() > 1)
            throw new InvalidDataException($"--method {combination} combines lora_A and lora_B element-wise, so every adapter needs the same rank; got {Describe(adapters, ranks.Select(r => $"r = {r}"))}. Use cat or an _svd method (svd, ties_svd, dare_ties_svd, ...) to merge different ranks.");
        var newRank = combination.Name == "cat" ? ranks.Sum() : combination.Svd ? options.SvdRank ?? ranks.Max() : ranks[0];

        var names = new List<string>();
        foreach (var perAdapter in modules)
            names.AddRange(perAdapter.Keys.Where(m => !names.Contains(m)));
        var factors = new List<LoraFactors>();
        foreach (var module in names)
        {
            var (outFeatures, inFeatures) = BaseShape(baseWeights, module, adapters, modules);
            var present = Enumerable.Range(0, adapters.Count).Where(i => modules[i].ContainsKey(module)).ToArray();
            foreach (var i in present)
            {
                var m = modules[i][module];
                if (m.A.Cols != inFeatures || m.B.Rows != outFeatures)
                    throw new InvalidDataException($"adapter {adapters[i].Name}: {module} has lora_A {m.A.Shape} and lora_B {m.B.Shape} (ΔW [{m.B.Rows}, {m.A.Cols}]) but the base weight is [{outFeatures}, {inFeatures}]; the adapter was trained on a different base model.");
            }
            if (combination.Svd && newRank > Math.Min(outFeatures, inFeatures))
                throw new ArgumentException($"--svd-rank {newRank} exceeds min(out, in) = {Math.Min(outFeatures, inFeatures)} of {module} [{outFeatures}, {inFeatures}].");
            var (a, b) = combination.Name == "cat" ? Cat(module, present, adapters, modules, configs)
                : combination.Svd ? SvdMerge(module, present, adapters, modules, configs, combination, options, newRank, outFeatures, inFeatures)
                : FactorMerge(module, present, adapters, modules, configs, combination, options);
            factors.Add(new LoraFactors(module, Pad(a, newRank, rows: true), Pad(b, newRank, rows: false)));
        }

        var head = HeadOf(adapters, options.Head);
        var first = configs[0];
        var config = first with
        {
            R = newRank,
            LoraAlpha = newRank,
            TargetModules = UnionTargets(configs),
            RankPattern = new Dictionary<string, int>(),
            AlphaPattern = new Dictionary<string, double>(),
            UseRslora = false,
            ModulesToSave = head?.Adapter.Config.ModulesToSave ?? first.ModulesToSave,
        };
        return new DerivedLoraAdapter(config, factors, head is null ? [] : SavedTensors(head.Adapter), head?.Adapter.Directory);
    }

    /// <summary>Tensors other than the method's own (lora_*): modules_to_save, such as the classifier.</summary>
    internal static IReadOnlyList<AdapterTensor> SavedTensors(PeftAdapter adapter) =>
        [.. adapter.Tensors.Where(t => !t.Key.Parameter.StartsWith("lora_", StringComparison.Ordinal))];

    private static LoraConfig[] CheckInputs(IReadOnlyList<WeightedAdapter> adapters, WeightedMergeOptions options)
    {
        if (adapters.Count == 0)
            throw new ArgumentException("--adapters names no adapter; give at least one.");
        var duplicateName = adapters.GroupBy(a => a.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicateName is not null)
            throw new ArgumentException($"adapter name \"{duplicateName.Key}\" is given {duplicateName.Count()} times ({string.Join(", ", duplicateName.Select(a => a.Adapter.Directory))}); each adapter must be named once.");
        var duplicatePath = adapters.GroupBy(a => a.Adapter.Directory, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicatePath is not null)
            throw new ArgumentException($"adapter folder {duplicatePath.Key} is given {duplicatePath.Count()} times (as {string.Join(", ", duplicatePath.Select(a => a.Name))}); give it once with the sum of its weights.");
        foreach (var a in adapters.Where(a => !double.IsFinite(a.Weight)))
            throw new ArgumentException($"adapter {a.Name}: weight {a.Weight} is not a finite number.");

        var combination = options.Combination;
        if (combination.UsesDensity)
        {
            if (options.Density is not { } density)
                throw new ArgumentException($"--method {combination} prunes each task tensor: give --density, the fraction kept, in (0, 1].");
            if (!(density > 0 && density <= 1))
                throw new ArgumentException($"--density should be in (0, 1] (the fraction of values kept), got {density}.");
        }
        else if (options.Density is not null)
            throw new ArgumentException($"--density is only used by the pruning methods (ties, dare_linear, dare_ties, magnitude_prune and their _svd forms), not by {combination}.");
        if (!combination.Svd && (options.SvdRank is not null || options.SvdClamp is not null))
            throw new ArgumentException($"--svd-rank and --svd-clamp are only used by the _svd methods, not by {combination}.");
        if (options.SvdRank is <= 0)
            throw new ArgumentException($"--svd-rank should be positive, got {options.SvdRank}.");
        if (options.SvdClamp is { } clamp && !(clamp >= 0 && clamp <= 1))
            throw new ArgumentException($"--svd-clamp should be a quantile in [0, 1], got {clamp}.");

        var configs = new LoraConfig[adapters.Count];
        for (var i = 0; i < adapters.Count; i++)
        {
            var (name, adapter) = (adapters[i].Name, adapters[i].Adapter);
            if (adapter.Config is not LoraConfig c)
                throw new InvalidDataException($"adapter {name} ({adapter.Directory}) is {adapter.Config.PeftType}; merge-adapters combines LoRA adapters (turn another method into LoRA with `peftonnx-export to-lora` first).");
            if (c.UseDora)
                throw new InvalidDataException($"adapter {name} is DoRA (use_dora): its magnitude vector does not combine linearly; convert it with `peftonnx-export to-lora` first.");
            if (c.LoraBias || c.Bias != "none")
                throw new InvalidDataException($"adapter {name} trains biases (bias \"{c.Bias}\", lora_bias {c.LoraBias.ToString().ToLowerInvariant()}); PEFT refuses several adapters with biases, and merge-adapters combines bias-free LoRA only.");
            configs[i] = c;
        }
        for (var i = 1; i < adapters.Count; i++)
        {
            var (a, c, f) = (adapters[i].Name, configs[i], configs[0]);
            if (c.TaskType != f.TaskType)
                throw new InvalidDataException($"adapter {a} has task_type {c.TaskType ?? "null"} but {adapters[0].Name} has {f.TaskType ?? "null"}; merged adapters must wrap the same model class.");
            if ((c.TargetModules!.Pattern is null) != (f.TargetModules!.Pattern is null))
                throw new InvalidDataException($"adapter {a} gives target_modules as {Kind(c.TargetModules)} but {adapters[0].Name} as {Kind(f.TargetModules)}; PEFT cannot combine a list with a regex string.");
            if (!SameLayers(c, f))
                throw new InvalidDataException($"adapter {a} differs from {adapters[0].Name} in layers_to_transform, layers_pattern or exclude_modules; PEFT would keep {adapters[0].Name}'s and drop {a}'s other modules.");
        }
        return configs;
    }

    private static (Matrix64 A, Matrix64 B) Cat(string module, int[] present, IReadOnlyList<WeightedAdapter> adapters, Dictionary<string, LoraModuleWeights>[] modules, LoraConfig[] configs)
    {
        var parts = present.Select(i =>
        {
            var m = modules[i][module];
            var factor = adapters[i].Weight * configs[i].ScaleFor(module);
            return (A: Scaled(m.A, factor), m.B);
        }).ToList();
        var rank = parts.Sum(p => p.A.Rows);
        var (inFeatures, outFeatures) = (parts[0].A.Cols, parts[0].B.Rows);
        var a = new Matrix64(rank, inFeatures);
        var b = new Matrix64(outFeatures, rank);
        var offset = 0;
        foreach (var (pa, pb) in parts)
        {
            Array.Copy(pa.Data, 0, a.Data, offset * inFeatures, pa.Data.Length); // rows offset.. of A
            for (var o = 0; o < outFeatures; o++)
                Array.Copy(pb.Data, o * pb.Cols, b.Data, (o * rank) + offset, pb.Cols); // columns offset.. of B
            offset += pa.Rows;
        }
        return (a, b);
    }

    private static (Matrix64 A, Matrix64 B) FactorMerge(string module, int[] present, IReadOnlyList<WeightedAdapter> adapters, Dictionary<string, LoraModuleWeights>[] modules, LoraConfig[] configs, CombinationType combination, WeightedMergeOptions options)
    {
        var ranks = present.Select(i => modules[i][module].Rank).ToArray();
        if (ranks.Distinct().Count() > 1)
            throw new InvalidDataException($"--method {combination}: {module} has {Describe([.. present.Select(i => adapters[i])], ranks.Select(r => $"rank {r}"))}; the element-wise methods need one rank per module.");
        var products = present.Select(i => adapters[i].Weight * configs[i].ScaleFor(module)).ToArray();
        double[] weightsA = [.. products.Select(p => Math.Sqrt(Math.Abs(p)) * (p >= 0 ? 1 : -1))]; // the sign goes on A only
        double[] weightsB = [.. products.Select(p => Math.Sqrt(Math.Abs(p)))];
        var first = modules[present[0]][module];
        var a = combination.Combine([.. present.Select(i => modules[i][module].A.Data)], weightsA, options.Density ?? 1, options.MajoritySign, Masks(present, module, "lora_A", options.Seed));
        var b = combination.Combine([.. present.Select(i => modules[i][module].B.Data)], weightsB, options.Density ?? 1, options.MajoritySign, Masks(present, module, "lora_B", options.Seed));
        return (new Matrix64(first.A.Rows, first.A.Cols, a), new Matrix64(first.B.Rows, first.B.Cols, b));
    }

    private static (Matrix64 A, Matrix64 B) SvdMerge(string module, int[] present, IReadOnlyList<WeightedAdapter> adapters, Dictionary<string, LoraModuleWeights>[] modules, LoraConfig[] configs, CombinationType combination, WeightedMergeOptions options, int rank, int outFeatures, int inFeatures)
    {
        var deltas = present.Select(i => LoraDelta.Compute(modules[i][module].A, modules[i][module].B, configs[i].ScaleFor(module)).Data).ToList();
        double[] weights = [.. present.Select(i => adapters[i].Weight * configs[i].ScaleFor(module))];
        var merged = new Matrix64(outFeatures, inFeatures, combination.Combine(deltas, weights, options.Density ?? 1, options.MajoritySign, Masks(present, module, "delta", options.Seed)));
        var factors = TruncatedSvd.Factorize(merged, rank, options.SvdClamp);
        return (factors.A, factors.B);
    }

    private static DareMask[] Masks(int[] present, string module, string part, ulong seed) =>
        [.. present.Select(i => DareMask.For(seed, i, $"{module}.{part}"))];

    /// <summary>PEFT allocates the new rank for every module and fills the leading rows of A / columns of B.</summary>
    private static Matrix64 Pad(Matrix64 m, int rank, bool rows)
    {
        if ((rows ? m.Rows : m.Cols) == rank)
            return m;
        var padded = rows ? new Matrix64(rank, m.Cols) : new Matrix64(m.Rows, rank);
        for (var r = 0; r < m.Rows; r++)
            Array.Copy(m.Data, r * m.Cols, padded.Data, r * padded.Cols, m.Cols);
        return padded;
    }

    private static Matrix64 Scaled(Matrix64 m, double factor) => new(m.Rows, m.Cols, [.. m.Data.Select(v => v * factor)]);

    private static (int Out, int In) BaseShape(IReadOnlyDictionary<string, (float[] Data, long[] Shape)> baseWeights, string module, IReadOnlyList<WeightedAdapter> adapters, Dictionary<string, LoraModuleWeights>[] modules)
    {
        if (baseWeights.TryGetValue(module + ".weight", out var w) && w.Shape.Length == 2)
            return ((int)w.Shape[0], (int)w.Shape[1]);
        var owner = adapters[Array.FindIndex(modules, m => m.ContainsKey(module))].Name;
        throw new InvalidDataException($"adapter {owner} adapts {module}, which the base model has no Linear layer for; the adapter was trained on a different base model.");
    }

    private static WeightedAdapter? HeadOf(IReadOnlyList<WeightedAdapter> adapters, string? head)
    {
        var withHead = adapters.Where(a => SavedTensors(a.Adapter).Count > 0).ToList();
        if (head is not null)
        {
            var chosen = adapters.FirstOrDefault(a => a.Name == head)
                ?? throw new ArgumentException($"--head {head} names no adapter of --adapters ({string.Join(", ", adapters.Select(a => a.Name))}).");
            return withHead.Contains(chosen) ? chosen : throw new InvalidDataException($"--head {head}: that adapter saves no modules (modules_to_save, e.g. a classifier).");
        }
        if (withHead.Count > 1)
            throw new InvalidDataException($"adapters {string.Join(" and ", withHead.Select(a => a.Name))} each save their own {string.Join(", ", withHead[0].Adapter.Config.ModulesToSave ?? ["modules"])} (modules_to_save), which cannot be merged (PEFT refuses them); pick the one the merged adapter keeps with --head {withHead[0].Name}.");
        return withHead.FirstOrDefault();
    }

    private static TargetModules UnionTargets(LoraConfig[] configs) => configs[0].TargetModules!.Pattern is null
        ? TargetModules.FromNames(configs.SelectMany(c => c.TargetModules!.Names!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        : TargetModules.FromPattern(string.Join("|", configs.Select(c => $"({c.TargetModules!.Pattern})")));

    private static bool SameLayers(LoraConfig a, LoraConfig b) =>
        a.LayersPattern == b.LayersPattern
        && (a.LayersToTransform ?? []).SequenceEqual(b.LayersToTransform ?? [])
        && a.ExcludeModules?.Pattern == b.ExcludeModules?.Pattern
        && (a.ExcludeModules?.Names ?? []).SequenceEqual(b.ExcludeModules?.Names ?? []);

    private static string Kind(TargetModules t) => t.Pattern is null ? "a list" : $"the regex \"{t.Pattern}\"";

    private static string Describe(IReadOnlyList<WeightedAdapter> adapters, IEnumerable<string> values) =>
        string.Join(", ", adapters.Zip(values, (a, v) => $"{a.Name} {v}"));
}
