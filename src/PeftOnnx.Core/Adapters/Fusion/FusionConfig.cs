using PeftOnnx.Core.Adapters.Bottleneck;

namespace PeftOnnx.Core.Adapters.Fusion;

/// <summary>
/// PeftOnnx's own peft_type "ADAPTER_FUSION" (PEFT has no fusion; AdapterHub's <c>BertFusion</c> is the reference):
/// N ≥ 2 frozen bottleneck adapters, trained on other tasks, combined in every layer by an attention over their outputs
/// that is trained on the target task. The folder holds the fusion's weights and a copy of each fused adapter under
/// <c>adapters/&lt;name&gt;/</c> (<see cref="FrozenAdapterSet"/>), so it is self-contained. Layout and key names: docs/ADAPTER_FORMAT.md.
/// </summary>
public sealed record FusionConfig : PeftAdapterConfig
{
    public const string TypeName = "ADAPTER_FUSION";

    /// <summary>The module under each adapter site that holds the fusion's weights: <c>&lt;site&gt;.adapter.fusion.query.weight</c>.</summary>
    public const string FusionModule = "fusion";

    /// <summary>What the fused adapters are called in messages (<see cref="FrozenAdapterSet.Role"/>).</summary>
    public const string Role = "fused adapter";

    public override string PeftType => TypeName;

    /// <summary>The fused adapters in fusion order (AdapterHub's <c>Fuse("a", "b", "c")</c>).</summary>
    public IReadOnlyList<FrozenAdapter> Adapters { get; init; } = [];

    public FusionSettings Fusion { get; init; } = FusionSettings.Dynamic;

    public override void Validate()
    {
        if (Adapters is null || Adapters.Any(a => a is null))
            throw Invalid("`adapters` should be a list of {\"name\", \"sha256\"} objects, got null or a null entry");
        if (Adapters.Count < 2)
            throw Invalid($"`adapters` should list at least 2 adapters to fuse, got {Adapters.Count}{(Adapters.Count == 1 ? $" ({Adapters[0].Name})" : "")}; a fusion of one adapter is that adapter: train or serve it alone");
        foreach (var adapter in Adapters)
            adapter.Validate();
        if (Adapters.GroupBy(a => a.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
            throw Invalid($"`adapters` names {duplicate.Key} {duplicate.Count()} times; each fused adapter is a separate folder with its own name");
        if (Fusion is null)
            throw Invalid("`fusion` should be an object of AdapterFusionConfig fields, got null");
        if (Fusion.Temperature)
            throw Invalid("`fusion.temperature` true (AdapterHub's softmax temperature schedule) is not supported: its state is not saved with the weights; the dynamic and static configs use T = 1");
        if (Fusion.ResidualBefore)
            throw Invalid("`fusion.residual_before` true is not supported: both AdapterHub presets (dynamic, static) add the residual after the attention");
        if (Fusion.DropoutProb is < 0 or >= 1)
            throw Invalid($"`fusion.dropout_prob` should be in [0, 1), got {Fusion.DropoutProb}");
    }

    /// <summary>The fusion weights' module at an adapter site, relative to the encoder: <c>encoder.layer.0.output.adapter.fusion</c>.</summary>
    public static string FusionModuleAt(string adapterModule) => $"{adapterModule}.{FusionModule}";
}
