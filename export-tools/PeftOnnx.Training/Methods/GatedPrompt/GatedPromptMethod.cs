using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.GatedPrompt;
using PeftOnnx.Training.Encoder;

namespace PeftOnnx.Training.Methods.GatedPrompt;

/// <summary>
/// Zero-init gated prompts, PeftOnnx's peft_type GATED_PROMPT (docs/ADAPTER_FORMAT.md): keys
/// base_model.model.bert.encoder.layer.N.attention.self.gated_prompt.{adaption_prompt, adaption_gate}.
/// </summary>
public sealed class GatedPromptMethod : PeftMethod
{
    /// <summary>The registration: --method gated-prompt --prompt-length --prompt-layers.</summary>
    public static TrainerMethod Trainer { get; } = TrainerMethod.ForConfig<GatedPromptConfig>(["gated-prompt"],
        (_, s, _) => new GatedPromptMethod(new GatedPromptConfig { AdapterLen = s.PromptLength, AdapterLayers = s.PromptLayers }),
        config => new GatedPromptMethod(config)) with { LearningRate = 5e-3 };

    public GatedPromptMethod(GatedPromptConfig config)
    {
        config.Validate();
        Config = config;
    }

    public GatedPromptConfig Config { get; }

    public override string Name => "gated-prompt";

    protected override void Inject(BertForSequenceClassification model)
    {
        var c = model.Bert.Config;
        foreach (var layer in Config.LayersOf(c.NumHiddenLayers))
        {
            var attention = (BertSelfAttention)ModuleSurgery.Get(model, $"bert.encoder.layer.{layer}.attention.self");
            attention.AttachPrompt(new GatedPromptAttention(Config.AdapterLen, c));
        }
    }

    public override PeftAdapterConfig AdapterConfig(BertConfig config) => Config with { TaskType = TaskType, ModulesToSave = ModulesToSave };
}
