using PeftOnnx.Core.Adapters;
using PeftOnnx.Training.Encoder;

namespace PeftOnnx.Training.Methods.Baselines;

/// <summary>
/// Full fine-tuning: every parameter trains. Saved as a whole model
/// (transformers layout: model.safetensors with bert.… and classifier.… keys, config.json).
/// </summary>
public sealed class FullFineTuningMethod : PeftMethod
{
    public static TrainerMethod Trainer { get; } = new() { Names = ["full"], Create = (_, _, _) => new FullFineTuningMethod(), LearningRate = 5e-5 };

    public override string Name => "full";

    public override IReadOnlyList<string> ModulesToSave { get; } = ["bert", "classifier"];

    protected override void Inject(BertForSequenceClassification model)
    {
    }

    public override PeftAdapterConfig? AdapterConfig(BertConfig config) => null;
}
