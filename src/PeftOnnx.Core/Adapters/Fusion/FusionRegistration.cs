namespace PeftOnnx.Core.Adapters.Fusion;

/// <summary>AdapterFusion in the method registry: an attention over N adapters' outputs per layer, which no weight can hold (side graphs only).</summary>
public static class FusionRegistration
{
    public static AdapterMethod Method { get; } = AdapterMethod.Create<FusionConfig>(FusionConfig.TypeName);
}
