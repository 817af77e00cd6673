using System.Text.Json.Nodes;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Methods.Dora;

namespace PeftOnnx.Training.Methods.Lora;

/// <summary>LoRA (and DoRA when <see cref="LoraConfig.UseDora"/>): wraps each target Linear of the encoder.</summary>
public sealed class LoraMethod(LoraConfig config) : PeftMethod
{
    public LoraConfig Config { get; } = config;

    public override string Name => Config.UseDora ? "dora" : "lora";

    public override string PeftType => "LORA";

    protected override void Inject(BertForSequenceClassification model)
    {
        Config.Validate();
        foreach (var (name, linear) in FindLinearTargets(model, Config.TargetModules))
        {
            TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> wrapper = Config.UseDora
                ? new DoraLinear(linear, Config)
                : new LoraLinear(linear, Config);
            ModuleSurgery.Replace(model, name, wrapper);
        }
    }

    public override JsonObject ConfigFields(BertConfig config) => new()
    {
        ["r"] = Config.R,
        ["lora_alpha"] = Config.Alpha,
        ["lora_dropout"] = Config.Dropout,
        ["target_modules"] = new JsonArray([.. Config.TargetModules.Select(t => JsonValue.Create(t))]),
        ["use_rslora"] = Config.UseRsLora,
        ["use_dora"] = Config.UseDora,
        ["bias"] = "none",
        ["fan_in_fan_out"] = false,
        ["init_lora_weights"] = true,
        ["rank_pattern"] = new JsonObject(),
        ["alpha_pattern"] = new JsonObject(),
    };
}
