namespace PeftOnnx.Core.Adapters.Bottleneck;

/// <summary>Bottleneck adapters in the method registry: a non-linear block between layers, so they do not merge (side graphs only).</summary>
public static class BottleneckRegistration
{
    public static AdapterMethod Method { get; } = AdapterMethod.Create<BottleneckConfig>(BottleneckConfig.TypeName);
}
