namespace PeftOnnx.Core.Adapters.Bottleneck;

/// <summary>
/// PeftOnnx's own peft_type "BOTTLENECK" (PEFT has no bottleneck adapters): Houlsby (after the attention and the
/// feed-forward projections) or Pfeiffer (after the feed-forward projection only) adapters,
/// <c>h + up(act(down(h)))</c>. Layout and key names: docs/ADAPTER_FORMAT.md.
/// </summary>
public sealed record BottleneckConfig : PeftAdapterConfig
{
    public const string TypeName = "BOTTLENECK";
    public const string Houlsby = "houlsby";
    public const string Pfeiffer = "pfeiffer";

    private static readonly string[] Variants = [Houlsby, Pfeiffer];
    private static readonly string[] NonLinearities = ["relu", "gelu", "swish", "tanh"];

    public override string PeftType => TypeName;

    public string Variant { get; init; } = Houlsby;

    /// <summary>Bottleneck width = hidden size / reduction_factor.</summary>
    public int ReductionFactor { get; init; } = 16;

    public string NonLinearity { get; init; } = "relu";

    /// <summary>Encoder layers that carry adapters; null means all.</summary>
    public IReadOnlyList<int>? LayersToTransform { get; init; }

    /// <summary>Where adapters sit inside each layer, as module paths relative to encoder.layer.N.</summary>
    public IReadOnlyList<string> Sites => Variant == Houlsby ? ["attention.output", "output"] : ["output"];

    public override void Validate()
    {
        if (!Variants.Contains(Variant))
            throw Invalid($"`variant` should be one of {string.Join(", ", Variants)}, got \"{Variant}\"");
        if (ReductionFactor <= 0)
            throw Invalid($"`reduction_factor` should be positive, got {ReductionFactor}");
        if (!NonLinearities.Contains(NonLinearity))
            throw Invalid($"`non_linearity` should be one of {string.Join(", ", NonLinearities)}, got \"{NonLinearity}\"");
        if (LayersToTransform?.FirstOrDefault(l => l < 0) is < 0 and var bad)
            throw Invalid($"`layers_to_transform` holds layer indices, got {bad}");
    }

    /// <summary>Bottleneck width for a hidden size; the hidden size must be a multiple of reduction_factor.</summary>
    public int BottleneckSize(int hidden)
    {
        if (hidden % ReductionFactor != 0)
            throw Invalid($"`reduction_factor` {ReductionFactor} does not divide the hidden size {hidden}");
        return hidden / ReductionFactor;
    }

    /// <summary>Module path of the adapter at <paramref name="site"/> of layer <paramref name="layer"/>: its parameters are
    /// <c>&lt;module&gt;.down.weight</c> [bottleneck, hidden], <c>.down.bias</c>, <c>.up.weight</c> [hidden, bottleneck], <c>.up.bias</c>.</summary>
    public static string AdapterModule(int layer, string site) => $"encoder.layer.{layer}.{site}.adapter";
}
