namespace PeftOnnx.Core.Adapters.PromptTuning;

/// <summary>Prompt tuning in the method registry: it lengthens the sequence, so it does not merge (side graphs only).</summary>
public static class PromptTuningRegistration
{
    public static AdapterMethod Method { get; } = AdapterMethod.Create<PromptTuningConfig>(PromptTuningConfig.TypeName);
}
