namespace PeftOnnx.Core.Adapters.GatedPrompt;

/// <summary>Gated prompts in the method registry: an extra attention per layer, which no weight can hold (side graphs only).</summary>
public static class GatedPromptRegistration
{
    public static AdapterMethod Method { get; } = AdapterMethod.Create<GatedPromptConfig>(GatedPromptConfig.TypeName);
}
