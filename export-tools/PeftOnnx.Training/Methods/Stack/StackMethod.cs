using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Bottleneck;
using PeftOnnx.Core.Adapters.Stack;
using PeftOnnx.Core.Models;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Methods.Bottleneck;

namespace PeftOnnx.Training.Methods.Stack;

/// <summary>
/// A bottleneck adapter trained on top of frozen ones (AdapterHub's <c>Stack</c>, MAD-X), PeftOnnx's peft_type
/// ADAPTER_STACK (docs/ADAPTER_FORMAT.md): at every adapter site a <see cref="StackBlock"/> runs the frozen adapters and
/// then the new one; only the new adapter and the classifier train. Keys
/// base_model.model.bert.encoder.layer.N.&lt;site&gt;.adapter.adapters.&lt;top&gt;.{down,up}.{weight,bias}; the frozen
/// adapters are copied into the folder's adapters/&lt;name&gt;/.
/// </summary>
public sealed class StackMethod : PeftMethod
{
    /// <summary>
    /// The registration for loading a saved stack; training one is --method houlsby|pfeiffer --stack-on &lt;folder&gt;
    /// (<see cref="BottleneckMethod.Trainer"/> builds it with <see cref="Create"/>).
    /// </summary>
    public static TrainerMethod Trainer { get; } = TrainerMethod.ForConfig<StackConfig>([], Create, config => new StackMethod(config));

    private FrozenAdapterSet? _lower;

    /// <summary>A new adapter <paramref name="top"/> on <paramref name="lower"/>.</summary>
    public StackMethod(FrozenAdapterSet lower, BottleneckConfig top)
    {
        ArgumentNullException.ThrowIfNull(lower);
        ArgumentNullException.ThrowIfNull(top);
        var config = new StackConfig
        {
            StackedOn = lower.Entries,
            Variant = top.Variant,
            ReductionFactor = top.ReductionFactor,
            NonLinearity = top.NonLinearity,
            LayersToTransform = lower.Sites.LayersToTransform,
        };
        config.Validate();
        config.RequireSites(lower);
        (Config, _lower) = (config, lower);
    }

    /// <summary>A saved stack; its lower adapters are read from the folder (<see cref="ReadFolder"/>) before it is applied.</summary>
    public StackMethod(StackConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
    }

    public StackConfig Config { get; }

    public override string Name => Config.Variant;

    public FrozenAdapterSet Lower => _lower
        ?? throw new InvalidOperationException("the stack's lower adapters are not loaded: read the stack folder (ReadFolder) before applying the method.");

    /// <summary>--method <paramref name="variant"/> --stack-on <see cref="MethodSettings.StackOn"/>: the new adapter's width and activation from the settings.</summary>
    public static StackMethod Create(string variant, MethodSettings settings, BertConfig encoder)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var lower = FrozenAdapterSet.FromFolders(settings.StackOn, StackConfig.Role);
        return new StackMethod(lower, new BottleneckConfig { Variant = variant, ReductionFactor = settings.ReductionFactor, NonLinearity = settings.NonLinearity });
    }

    public override void ReadFolder(string adapterDirectory)
    {
        var stack = PeftAdapter.Load(adapterDirectory);
        var lower = FrozenAdapterSet.FromCopies(stack, ((StackConfig)stack.Config).StackedOn, StackConfig.Role);
        Config.RequireSites(lower);
        _lower = lower;
    }

    public override void WriteFolder(string folder) => Lower.CopyInto(folder);

    public override void RequireBase(BaseModelIdentity target) => Lower.RequireBase(target);

    protected override void Inject(BertForSequenceClassification model)
    {
        var c = model.Bert.Config;
        var top = Config.Top;
        for (var layer = 0; layer < c.NumHiddenLayers; layer++)
        {
            if (top.LayersToTransform is { } layers && !layers.Contains(layer))
                continue;
            foreach (var site in top.Sites)
            {
                var adapters = Lower.Configs.Append(top).Select(a => new BottleneckAdapter(c.HiddenSize, a.BottleneckSize(c.HiddenSize), a.NonLinearity)).ToList();
                ModuleSurgery.Replace(model, "bert." + BottleneckConfig.AdapterModule(layer, site), new StackBlock(adapters));
            }
        }
        FrozenAdapterWeights.Load(model, Lower); // and freezes them
    }

    public override PeftAdapterConfig AdapterConfig(BertConfig config) => Config with { TaskType = TaskType, ModulesToSave = ModulesToSave };
}
