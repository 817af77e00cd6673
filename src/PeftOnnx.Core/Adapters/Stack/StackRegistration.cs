namespace PeftOnnx.Core.Adapters.Stack;

/// <summary>Adapter stacks in the method registry: bottleneck adapters applied one after the other, non-linear, so they do not merge (side graphs only).</summary>
public static class StackRegistration
{
    public static AdapterMethod Method { get; } = AdapterMethod.Create<StackConfig>(StackConfig.TypeName);
}
