namespace PeftOnnx.Core.Adapters;

/// <summary>The merge of an adapter's method, from the registry; methods that cannot be folded into weights say so.</summary>
public static class AdapterMerge
{
    public static IAdapterMerge For(PeftAdapter adapter)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        var method = AdapterMethods.Of(adapter.Config);
        return method.Merge?.Invoke(adapter) ?? throw new NotSupportedException(
            $"{method.PeftType} adapters change the computation, not just the weights, so they cannot be merged into the base model (export them as a side-graph bundle: --mode side); " +
            $"mergeable types: {AdapterMethods.Describe(m => m.Mergeable)}.");
    }

    /// <summary>Throws when a module's merged values are not finite (PEFT's safe_merge).</summary>
    internal static MergedLinear RequireFinite(MergedLinear merged, string module)
    {
        FiniteValues.Require(merged.Weight, $"the merged weight of {module}");
        if (merged.Bias is not null)
            FiniteValues.Require(merged.Bias, $"the merged bias of {module}");
        return merged;
    }
}
