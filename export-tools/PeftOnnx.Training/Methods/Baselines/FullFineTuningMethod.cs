using System.Text.Json.Nodes;
using PeftOnnx.Training.Encoder;

namespace PeftOnnx.Training.Methods.Baselines;

/// <summary>
/// Full fine-tuning: every parameter trains. Written as a PEFT-layout directory with peft_type
/// FULL whose tensors are the whole model (base_model.model.bert.…, base_model.model.classifier.…).
/// </summary>
public sealed class FullFineTuningMethod : PeftMethod
{
    public override string Name => "full";

    public override string PeftType => "FULL";

    public override IReadOnlyList<string> ModulesToSave { get; } = ["bert", "classifier"];

    protected override void Inject(BertForSequenceClassification model)
    {
    }

    public override JsonObject ConfigFields(BertConfig config) => [];
}
