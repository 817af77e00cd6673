using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Bottleneck;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Methods.Stack;

namespace PeftOnnx.Training.Methods.Bottleneck;

/// <summary>
/// Bottleneck adapters (Houlsby or Pfeiffer), PeftOnnx's peft_type BOTTLENECK (docs/ADAPTER_FORMAT.md):
/// keys base_model.model.bert.encoder.layer.N.{attention.output,output}.adapter.{down,up}.{weight,bias}.
/// </summary>
public sealed class BottleneckMethod : PeftMethod
{
    /// <summary>The registration: --method houlsby or pfeiffer (the variant); with --stack-on, on top of frozen adapters (<see cref="StackMethod"/>).</summary>
    public static TrainerMethod Trainer { get; } = TrainerMethod.ForConfig<BottleneckConfig>([BottleneckConfig.Houlsby, BottleneckConfig.Pfeiffer], (name, s, encoder) => s.StackOn.Count > 0
        ? StackMethod.Create(name, s, encoder)
        : new BottleneckMethod(new BottleneckConfig
        {
            Variant = name,
            ReductionFactor = s.ReductionFactor,
            NonLinearity = s.NonLinearity,
        }), config => new BottleneckMethod(config)) with { Stacks = true };

    public BottleneckMethod(BottleneckConfig config)
    {
        config.Validate();
        Config = config;
    }

    public BottleneckConfig Config { get; }

    public override string Name => Config.Variant;

    protected override void Inject(BertForSequenceClassification model)
    {
        var hidden = model.Bert.Config.HiddenSize;
        var width = Config.BottleneckSize(hidden);
        for (var i = 0; i < model.Bert.Config.NumHiddenLayers; i++)
        {
            if (Config.LayersToTransform is { } layers && !layers.Contains(i))
                continue;
            foreach (var site in Config.Sites)
                ModuleSurgery.Replace(model, "bert." + BottleneckConfig.AdapterModule(i, site), new BottleneckAdapter(hidden, width, Config.NonLinearity));
        }
    }

    public override PeftAdapterConfig AdapterConfig(BertConfig config) => Config with { TaskType = TaskType, ModulesToSave = ModulesToSave };
}
