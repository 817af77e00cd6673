using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Lora;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.OrtAdapters;
using PeftOnnx.Onnx.Passes;
using PeftOnnx.Onnx.Side;

namespace PeftOnnx.Onnx.Methods.Lora;

/// <summary>
/// LoRA as a side graph: a branch <c>y += (x·A)·B</c> at every module any adapter targets (plus --targets), one adapter
/// per run (<see cref="LoraSidePass"/>) or one per row (<see cref="MixedLoraPass"/>). An adapter becomes A = lora_Aᵀ
/// [in, r] and B = s·lora_Bᵀ [r, out], the scale folded in in float64. DoRA, lora_bias and bias="all" change base
/// weights, which a side graph shares, so they are refused here and merge instead.
/// </summary>
public sealed class LoraSideGraph : ISideGraphMethod
{
    public static LoraSideGraph Method { get; } = new();

    public string PeftType => LoraConfig.TypeName;

    public bool MixedBatches => true;

    public SideGraphManifest Build(SideGraphRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (map, options) = (request.Map, request.Options);
        var modules = new SortedSet<string>(StringComparer.Ordinal);
        var maxAdapterRank = 1;
        foreach (var adapter in request.Adapters)
        {
            foreach (var (module, weights) in LoraModuleWeights.Collect(adapter, (LoraConfig)adapter.Config))
            {
                modules.Add(module);
                maxAdapterRank = Math.Max(maxAdapterRank, weights.Rank);
            }
        }
        foreach (var target in options.ExtraTargets)
        {
            var matches = map.Linears.Where(l => l.Name == target || l.Name.EndsWith("." + target, StringComparison.Ordinal)).ToList();
            if (matches.Count == 0)
                throw new ArgumentException($"--targets entry \"{target}\" matches no Linear module of {request.BaseName}; it has {map.Summary()}.", nameof(request));
            modules.UnionWith(matches.Select(l => l.Name));
        }
        var maxRank = options.MaxRank ?? Math.Max(64, maxAdapterRank);
        if (maxRank < maxAdapterRank)
            throw new ArgumentException($"--max-rank {maxRank} is below the rank {maxAdapterRank} of the adapters being exported.", nameof(request));
        var ordered = map.Linears.Select(l => l.Name).Where(modules.Contains).ToList();
        request.Progress?.Report($"adding {(request.Mixed ? "mixed-batch " : "")}LoRA branches at {ordered.Count} modules (max rank {maxRank})");
        var slots = request.Mixed
            ? request.Model.Applied(new MixedLoraPass(ordered, map, request.BaseName)).Slots
            : request.Model.Applied(new LoraSidePass(ordered, map, request.BaseName)).Slots;
        return new SideGraphManifest
        {
            Form = options.Form,
            PeftType = PeftType,
            BaseModel = request.BaseName,
            MaxRank = maxRank,
            AdapterIndexInput = request.Mixed ? MixedLoraPass.AdapterIndexInput : null,
            Lora = slots,
        };
    }

    public IEnumerable<OrtAdapterParameter> Parameters(PeftAdapter adapter, SideGraphManifest side, SideBaseWeights baseWeights)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        var config = (LoraConfig)adapter.Config;
        if (config.UseDora)
            throw new NotSupportedException($"{adapter.Directory} is a DoRA adapter: its output normalisation depends on the merged weight, so it cannot run as an added LoRA branch; export it with --mode merged.");
        if (config.LoraBias)
            throw new NotSupportedException($"{adapter.Directory} sets lora_bias; side graphs carry no LoRA bias input; export it with --mode merged.");
        var baseTensors = adapter.Tensors.Where(t => t.Key.InEncoder && t.Key.Parameter is "weight" or "bias").Select(t => t.Name).ToList();
        if (baseTensors.Count > 0)
            throw new NotSupportedException($"{adapter.Directory} also changes base weights ({string.Join(", ", baseTensors.Take(3))}; bias=\"{config.Bias}\" or modules_to_save inside the encoder), which a side graph shares between adapters; export it with --mode merged.");
        return Convert(adapter, config);
    }

    private static IEnumerable<OrtAdapterParameter> Convert(PeftAdapter adapter, LoraConfig config)
    {
        foreach (var (module, weights) in LoraModuleWeights.Collect(adapter, config))
        {
            var scale = config.ScaleFor(module);
            var (r, inFeatures, outFeatures) = (weights.Rank, weights.A.Cols, weights.B.Rows);
            var a = new float[inFeatures * r];
            for (var k = 0; k < r; k++)
            {
                for (var i = 0; i < inFeatures; i++)
                    a[i * r + k] = (float)weights.A[k, i]; // lora_A [r, in] -> [in, r]
            }
            var b = new float[r * outFeatures];
            for (var o = 0; o < outFeatures; o++)
            {
                for (var k = 0; k < r; k++)
                    b[k * outFeatures + o] = (float)(scale * weights.B[o, k]); // lora_B [out, r] -> s * [r, out]
            }
            yield return OrtAdapterParameter.FromFloat32(LoraSidePass.AInput(module), a, inFeatures, r);
            yield return OrtAdapterParameter.FromFloat32(LoraSidePass.BInput(module), b, r, outFeatures);
        }
    }
}
