using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Bottleneck;
using PeftOnnx.Core.Adapters.Fusion;
using PeftOnnx.Core.Files;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Methods.Bottleneck;
using TorchSharp;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Methods.Fusion;

/// <summary>
/// AdapterFusion, PeftOnnx's peft_type ADAPTER_FUSION (docs/ADAPTER_FORMAT.md): N frozen bottleneck adapters at every
/// adapter site, combined by a trained <see cref="AdapterFusionLayer"/>; only the fusion layers and the classifier train
/// (AdapterHub's <c>train_adapter_fusion</c>). Keys base_model.model.bert.encoder.layer.N.&lt;site&gt;.adapter.fusion.{query,key}.{weight,bias},
/// .value.weight; the fused adapters are copied into the folder's adapters/&lt;name&gt;/.
/// </summary>
public sealed class FusionMethod : PeftMethod
{
    /// <summary>The registration: --method fusion --adapters a1,a2[,...] (bottleneck adapter folders).</summary>
    public static TrainerMethod Trainer { get; } = TrainerMethod.ForConfig<FusionConfig>(
        ["fusion"],
        (_, s, _) => new FusionMethod(FusedAdapterSet.FromFolders(s.Adapters), FusionSettings.Dynamic),
        config => new FusionMethod(config));

    private FusedAdapterSet? _adapters;

    /// <summary>A new fusion of <paramref name="adapters"/>.</summary>
    public FusionMethod(FusedAdapterSet adapters, FusionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(adapters);
        _adapters = adapters;
        Config = new FusionConfig { Adapters = adapters.Entries, Fusion = settings };
        Config.Validate();
    }

    /// <summary>A saved fusion; its adapters are read from the folder (<see cref="ReadFolder"/>) before it is applied.</summary>
    public FusionMethod(FusionConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
    }

    public FusionConfig Config { get; }

    public override string Name => "fusion";

    public FusedAdapterSet Adapters => _adapters
        ?? throw new InvalidOperationException("the fusion's adapters are not loaded: read the fusion folder (ReadFolder) before applying the method.");

    public override void ReadFolder(string adapterDirectory) => _adapters = FusedAdapterSet.FromFusion(PeftAdapter.Load(adapterDirectory));

    public override void WriteFolder(string folder)
    {
        for (var k = 0; k < Adapters.Count; k++)
        {
            var source = Adapters.Adapters[k].Directory;
            var target = Path.Combine(folder, FusionConfig.AdapterFolder, Adapters.Names[k]);
            Directory.CreateDirectory(target);
            // training.json too: it records the base the adapter was trained on, which the base checks read.
            foreach (var file in new[] { PeftAdapterConfig.FileName, PeftAdapter.WeightsFileName, "training.json" })
            {
                var path = Path.Combine(source, file);
                if (File.Exists(path))
                    File.WriteAllBytes(Path.Combine(target, file), RegularFile.ReadAllBytes(path));
            }
        }
    }

    protected override void Inject(BertForSequenceClassification model)
    {
        var c = model.Bert.Config;
        var sites = Adapters.Sites;
        var dropout = Config.Fusion.DropoutProb ?? c.AttentionProbsDropoutProb;
        var fused = new List<BottleneckAdapter>();
        for (var layer = 0; layer < c.NumHiddenLayers; layer++)
        {
            if (sites.LayersToTransform is { } layers && !layers.Contains(layer))
                continue;
            foreach (var site in sites.Sites)
            {
                var adapters = Adapters.Configs.Select(a => new BottleneckAdapter(c.HiddenSize, a.BottleneckSize(c.HiddenSize), a.NonLinearity)).ToList();
                fused.AddRange(adapters);
                ModuleSurgery.Replace(model, "bert." + BottleneckConfig.AdapterModule(layer, site), new FusionBlock(adapters, new AdapterFusionLayer(c.HiddenSize, Config.Fusion, dropout)));
            }
        }
        foreach (var p in fused.SelectMany(a => a.parameters()))
            p.requires_grad = false;
        LoadAdapterWeights(model);
    }

    /// <summary>Copies every fused adapter's encoder tensors into its slot (<see cref="FusionConfig.FusedParameter"/>).</summary>
    private void LoadAdapterWeights(BertForSequenceClassification model)
    {
        var parameters = model.Bert.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var loaded = new HashSet<string>(StringComparer.Ordinal);
        using var _ = no_grad();
        for (var k = 0; k < Adapters.Count; k++)
        {
            var adapter = Adapters.Adapters[k];
            foreach (var t in adapter.Tensors.Where(t => t.Key.InEncoder))
            {
                var name = FusionConfig.FusedParameter($"{t.Key.Module}.{t.Key.Parameter}", k);
                if (!parameters.TryGetValue(name, out var parameter))
                    throw new InvalidDataException($"fused adapter {Adapters.Names[k]}: tensor {t.Name} has no slot {name} in this model; is the adapter for another base model?");
                if (!t.Shape.SequenceEqual(parameter.shape))
                    throw new InvalidDataException($"fused adapter {Adapters.Names[k]}: {t.Name} has shape {t.ShapeText}, the model expects [{string.Join(", ", parameter.shape)}]; is the adapter for another base model?");
                FiniteValues.Require(t.Data, $"fused adapter {Adapters.Names[k]} tensor {t.Name}");
                using var source = tensor(Array.ConvertAll(t.Data, v => (float)v), t.Shape);
                parameter.copy_(source);
                loaded.Add(name);
            }
        }
        var missing = parameters.Keys.Where(n => n.Contains($".adapter.{FusionConfig.AdaptersModule}.", StringComparison.Ordinal) && !loaded.Contains(n)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"the fused adapters lack {string.Join(", ", missing.Take(4))}{(missing.Count > 4 ? $" ({missing.Count} in all)" : "")}.");
    }

    public override PeftAdapterConfig AdapterConfig(BertConfig config) => Config with { TaskType = TaskType, ModulesToSave = ModulesToSave };
}
