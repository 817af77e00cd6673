using PeftOnnx.Core.Adapters;
using PeftOnnx.Training.Encoder;

namespace PeftOnnx.Training.Methods.Baselines;

/// <summary>
/// Linear probe: the encoder stays frozen; only the pooler and the classifier train. Not a PEFT
/// method: saved as a whole model (transformers layout, model.safetensors + config.json).
/// </summary>
public sealed class LinearProbeMethod : PeftMethod
{
    public static TrainerMethod Trainer { get; } = new() { Names = ["probe"], Create = (_, _, _) => new LinearProbeMethod(), LearningRate = 2e-3 };

    public override string Name => "probe";

    public override IReadOnlyList<string> ModulesToSave { get; } = ["bert.pooler", "classifier"];

    protected override void Inject(BertForSequenceClassification model)
    {
    }

    public override PeftAdapterConfig? AdapterConfig(BertConfig config) => null;
}
