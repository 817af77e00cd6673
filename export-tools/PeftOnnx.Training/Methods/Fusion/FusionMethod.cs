using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Bottleneck;
using PeftOnnx.Core.Adapters.Fusion;
using PeftOnnx.Core.Models;
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
        (_, s, _) => new FusionMethod(FusedAdapters(s.Adapters), FusionSettings.Dynamic),
        config => new FusionMethod(config));

    private FrozenAdapterSet? _adapters;

    /// <summary>A new fusion of <paramref name="adapters"/>.</summary>
    public FusionMethod(FrozenAdapterSet adapters, FusionSettings settings)
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

    public FrozenAdapterSet Adapters => _adapters
        ?? throw new InvalidOperationException("the fusion's adapters are not loaded: read the fusion folder (ReadFolder) before applying the method.");

    /// <summary>The bottleneck adapter folders named by --adapters, at least two, checked (<see cref="FrozenAdapterSet"/>).</summary>
    public static FrozenAdapterSet FusedAdapters(IReadOnlyList<string> directories)
    {
        ArgumentNullException.ThrowIfNull(directories);
        if (directories.Count < 2)
            throw new ArgumentException($"a fusion combines at least 2 adapters, got {directories.Count}{(directories.Count == 1 ? $" ({directories[0]})" : "")}; pass --adapters a1,a2[,...], or train the one adapter alone.");
        return FrozenAdapterSet.FromFolders(directories, FusionConfig.Role);
    }

    public override void ReadFolder(string adapterDirectory)
    {
        var fusion = PeftAdapter.Load(adapterDirectory);
        _adapters = FrozenAdapterSet.FromCopies(fusion, ((FusionConfig)fusion.Config).Adapters, FusionConfig.Role);
    }

    public override void WriteFolder(string folder) => Adapters.CopyInto(folder);

    public override void RequireBase(BaseModelIdentity target) => Adapters.RequireBase(target);

    protected override void Inject(BertForSequenceClassification model)
    {
        var c = model.Bert.Config;
        var sites = Adapters.Sites;
        var dropout = Config.Fusion.DropoutProb ?? c.AttentionProbsDropoutProb;
        for (var layer = 0; layer < c.NumHiddenLayers; layer++)
        {
            if (sites.LayersToTransform is { } layers && !layers.Contains(layer))
                continue;
            foreach (var site in sites.Sites)
            {
                var adapters = Adapters.Configs.Select(a => new BottleneckAdapter(c.HiddenSize, a.BottleneckSize(c.HiddenSize), a.NonLinearity)).ToList();
                ModuleSurgery.Replace(model, "bert." + BottleneckConfig.AdapterModule(layer, site), new FusionBlock(adapters, new AdapterFusionLayer(c.HiddenSize, Config.Fusion, dropout)));
            }
        }
        FrozenAdapterWeights.Load(model, Adapters); // and freezes them
    }

    public override PeftAdapterConfig AdapterConfig(BertConfig config) => Config with { TaskType = TaskType, ModulesToSave = ModulesToSave };
}
