using System.Text.Json.Serialization;
using PeftOnnx.Core.Adapters.Bottleneck;

namespace PeftOnnx.Core.Adapters.Stack;

/// <summary>
/// PeftOnnx's own peft_type "ADAPTER_STACK" (PEFT has no stacking; AdapterHub's <c>Stack</c> composition is the
/// reference, MAD-X's language + task adapters): a bottleneck adapter trained on top of frozen bottleneck adapters, in
/// every layer each adapter reading the previous one's output. The fields other than <see cref="StackedOn"/> are the
/// trained (top) adapter's, as BOTTLENECK's; the folder holds its weights and a copy of each adapter it stacks on under
/// <c>adapters/&lt;name&gt;/</c> (<see cref="FrozenAdapterSet"/>), so it is self-contained. Layout: docs/ADAPTER_FORMAT.md.
/// </summary>
public sealed record StackConfig : PeftAdapterConfig
{
    public const string TypeName = "ADAPTER_STACK";

    /// <summary>What the lower adapters are called in messages (<see cref="FrozenAdapterSet.Role"/>).</summary>
    public const string Role = "stacked-on adapter";

    public override string PeftType => TypeName;

    /// <summary>The frozen adapters below the trained one, bottom first (AdapterHub's <c>Stack("a", "b")</c> lists "a" first).</summary>
    public IReadOnlyList<FrozenAdapter> StackedOn { get; init; } = [];

    /// <summary>The top adapter's variant; the lower adapters' own, since every adapter of a stack sits at the same sites.</summary>
    public string Variant { get; init; } = BottleneckConfig.Houlsby;

    public int ReductionFactor { get; init; } = 16;

    public string NonLinearity { get; init; } = "relu";

    /// <summary>The top adapter's layers; the lower adapters' own.</summary>
    public IReadOnlyList<int>? LayersToTransform { get; init; }

    /// <summary>The trained top adapter as a bottleneck config (its width, activation and sites).</summary>
    [JsonIgnore]
    public BottleneckConfig Top => new() { Variant = Variant, ReductionFactor = ReductionFactor, NonLinearity = NonLinearity, LayersToTransform = LayersToTransform };

    public override void Validate()
    {
        if (StackedOn is null || StackedOn.Any(a => a is null))
            throw Invalid("`stacked_on` should be a list of {\"name\", \"sha256\"} objects, got null or a null entry");
        if (StackedOn.Count == 0)
            throw Invalid("`stacked_on` should list at least 1 adapter to stack on, got 0; a stack on nothing is a BOTTLENECK adapter");
        foreach (var adapter in StackedOn)
            adapter.Validate();
        if (StackedOn.GroupBy(a => a.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
            throw Invalid($"`stacked_on` names {duplicate.Key} {duplicate.Count()} times; each stacked-on adapter is a separate folder with its own name");
        Top.Validate();
    }

    /// <summary>Throws unless the top adapter sits where <paramref name="lower"/> do (one variant, the same layers): a stack applies every adapter at each of its sites.</summary>
    public void RequireSites(FrozenAdapterSet lower)
    {
        ArgumentNullException.ThrowIfNull(lower);
        var sites = lower.Sites;
        if (Variant != sites.Variant)
            throw new InvalidDataException($"{Role} {lower.Names[0]} is a {sites.Variant} adapter, but the adapter stacked on it is {Variant}; a stack applies its adapters one after the other at the same sites: train it with --method {sites.Variant}.");
        if (!FrozenAdapterSet.SameLayers(LayersToTransform, sites.LayersToTransform))
            throw new InvalidDataException($"{Role} {lower.Names[0]} has layers_to_transform {FrozenAdapterSet.DescribeLayers(sites.LayersToTransform)}, but the adapter stacked on it has {FrozenAdapterSet.DescribeLayers(LayersToTransform)}; a stack applies its adapters in the same layers.");
    }
}
