namespace PeftOnnx.Core.Adapters.PrefixTuning;

/// <summary>Prefix tuning in the method registry: it adds keys and values to every layer, so it does not merge (side graphs only).</summary>
public static class PrefixTuningRegistration
{
    public static AdapterMethod Method { get; } = AdapterMethod.Create<PrefixTuningConfig>(PrefixTuningConfig.TypeName);
}
