using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Lora;
using PeftOnnx.Training.Encoder;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Methods.Lora;

/// <summary>LoRA (and DoRA when use_dora): wraps each target Linear of the encoder; rank and scale per module follow rank_pattern / alpha_pattern / use_rslora.</summary>
public sealed class LoraMethod : PeftMethod
{
    /// <summary>The registration: --method lora, or dora (use_dora, the LoRA variant).</summary>
    public static TrainerMethod Trainer { get; } = TrainerMethod.ForConfig<LoraConfig>(["lora", "dora"], (name, s, _) => new LoraMethod(new LoraConfig
    {
        R = s.Rank,
        LoraAlpha = s.Alpha ?? 2.0 * s.Rank,
        LoraDropout = s.Dropout,
        TargetModules = s.TargetModulesOr("query,value"),
        UseRslora = s.RsLora,
        UseDora = name == "dora",
        LayersToTransform = LoReft.LoReftMethod.ParseLayers(s.Layers),
    }), config => new LoraMethod(config));

    public LoraMethod(LoraConfig config)
    {
        config.Validate();
        Config = config;
    }

    public LoraConfig Config { get; }

    public override string Name => Config.UseDora ? "dora" : "lora";

    protected override void Inject(BertForSequenceClassification model)
    {
        foreach (var (name, linear) in FindLinearTargets(model, Config.CreateMatcher(), Config.TargetModules!.ToString()))
        {
            var module = name["bert.".Length..];
            var (r, scaling) = (Config.RankFor(module), Config.ScaleFor(module));
            nn.Module<Tensor, Tensor> wrapper = Config.UseDora
                ? new DoraLinear(linear, r, scaling, Config.LoraDropout)
                : new LoraLinear(linear, r, scaling, Config.LoraDropout);
            ModuleSurgery.Replace(model, name, wrapper);
        }
    }

    public override PeftAdapterConfig AdapterConfig(BertConfig config) => Config with { TaskType = TaskType, ModulesToSave = ModulesToSave };
}
