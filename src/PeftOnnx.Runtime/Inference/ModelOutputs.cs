namespace PeftOnnx.Runtime.Inference;

/// <summary>Logical output names used in bundle.json / model.json "outputs" maps.</summary>
public static class ModelOutputs
{
    public const string LastHiddenState = "last_hidden_state";
    public const string PoolerOutput = "pooler_output";
    public const string Logits = "logits";
    public const string Probabilities = "probabilities";
}
