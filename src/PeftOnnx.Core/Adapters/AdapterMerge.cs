using PeftOnnx.Core.Adapters.Ia3;
using PeftOnnx.Core.Adapters.Lora;

namespace PeftOnnx.Core.Adapters;

/// <summary>Picks the merge of an adapter's method; methods that cannot be folded into weights say so.</summary>
public static class AdapterMerge
{
    public static IAdapterMerge For(PeftAdapter adapter)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        return adapter.Config switch
        {
            LoraConfig lora => new LoraAdapterMerge(adapter, lora),
            Ia3Config ia3 => new Ia3AdapterMerge(adapter, ia3),
            var other => throw new NotSupportedException(
                $"{other.PeftType} adapters change the computation, not just the weights, so they cannot be merged into the base model; " +
                $"mergeable types: {LoraConfig.TypeName} (incl. DoRA), {Ia3Config.TypeName}."),
        };
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
