using System.Text.Json.Nodes;
using PeftOnnx.Training.Encoder;

namespace PeftOnnx.Training.Methods.Bottleneck;

/// <summary>
/// Bottleneck adapters (Houlsby or Pfeiffer). Written in PEFT's directory layout with peft_type
/// BOTTLENECK; keys base_model.model.bert.encoder.layer.N.{attention.output,output}.adapter.{down,up}.{weight,bias}.
/// </summary>
public sealed class BottleneckMethod(BottleneckConfig config) : PeftMethod
{
    public BottleneckConfig Config { get; } = config;

    public override string Name => Config.Placement == BottleneckPlacement.Houlsby ? "houlsby" : "pfeiffer";

    public override string PeftType => "BOTTLENECK";

    protected override void Inject(BertForSequenceClassification model)
    {
        var hidden = model.Bert.Config.HiddenSize;
        Config.Validate(hidden);
        for (var i = 0; i < model.Bert.Config.NumHiddenLayers; i++)
        {
            if (Config.Placement == BottleneckPlacement.Houlsby)
                ModuleSurgery.Replace(model, $"bert.encoder.layer.{i}.attention.output.adapter", new BottleneckAdapter(hidden, Config));
            ModuleSurgery.Replace(model, $"bert.encoder.layer.{i}.output.adapter", new BottleneckAdapter(hidden, Config));
        }
    }

    public override JsonObject ConfigFields(BertConfig config) => new()
    {
        ["adapter_placement"] = Config.Placement.ToString().ToUpperInvariant(),
        ["reduction_factor"] = Config.ReductionFactor,
        ["bottleneck_size"] = config.HiddenSize / Config.ReductionFactor,
        ["non_linearity"] = Config.NonLinearity,
        ["target_modules"] = Config.Placement == BottleneckPlacement.Houlsby
            ? new JsonArray("attention.output", "output")
            : new JsonArray("output"),
    };
}
