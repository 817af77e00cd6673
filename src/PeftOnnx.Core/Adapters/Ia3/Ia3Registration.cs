namespace PeftOnnx.Core.Adapters.Ia3;

/// <summary>IA3 in the method registry: mergeable (the vectors fold into their Linear layers).</summary>
public static class Ia3Registration
{
    public static AdapterMethod Method { get; } = AdapterMethod.Create<Ia3Config>(Ia3Config.TypeName, (adapter, config) => new Ia3AdapterMerge(adapter, config)) with
    {
        TensorParameters = ["ia3_l"],
    };
}
