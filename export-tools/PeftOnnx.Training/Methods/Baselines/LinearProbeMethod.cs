using System.Text.Json.Nodes;
using PeftOnnx.Training.Encoder;

namespace PeftOnnx.Training.Methods.Baselines;

/// <summary>
/// Linear probe: the encoder stays frozen; only the pooler and the classifier train. Written as a
/// PEFT-layout directory with peft_type LINEAR_PROBE whose tensors are the saved modules.
/// </summary>
public sealed class LinearProbeMethod : PeftMethod
{
    public override string Name => "probe";

    public override string PeftType => "LINEAR_PROBE";

    public override IReadOnlyList<string> ModulesToSave { get; } = ["bert.pooler", "classifier"];

    protected override void Inject(BertForSequenceClassification model)
    {
    }

    public override JsonObject ConfigFields(BertConfig config) => [];
}
