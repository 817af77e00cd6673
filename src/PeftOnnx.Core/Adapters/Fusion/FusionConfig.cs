using System.Text.RegularExpressions;

namespace PeftOnnx.Core.Adapters.Fusion;

/// <summary>
/// PeftOnnx's own peft_type "ADAPTER_FUSION" (PEFT has no fusion; AdapterHub's <c>BertFusion</c> is the reference):
/// N ≥ 2 frozen bottleneck adapters, trained on other tasks, combined in every layer by an attention over their outputs
/// that is trained on the target task. The folder holds the fusion's weights and a copy of each fused adapter under
/// <c>adapters/&lt;name&gt;/</c>, so it is self-contained. Layout and key names: docs/ADAPTER_FORMAT.md.
/// </summary>
public sealed partial record FusionConfig : PeftAdapterConfig
{
    public const string TypeName = "ADAPTER_FUSION";

    /// <summary>The folder, inside the fusion folder, that holds the fused adapters' copies.</summary>
    public const string AdapterFolder = "adapters";

    /// <summary>The module under each adapter site that holds the fusion's weights: <c>&lt;site&gt;.adapter.fusion.query.weight</c>.</summary>
    public const string FusionModule = "fusion";

    /// <summary>The fused adapters' module list under each site: <c>&lt;site&gt;.adapter.adapters.&lt;k&gt;.down.weight</c>.</summary>
    public const string AdaptersModule = "adapters";

    public override string PeftType => TypeName;

    /// <summary>The fused adapters in fusion order (AdapterHub's <c>Fuse("a", "b", "c")</c>).</summary>
    public IReadOnlyList<FusedAdapter> Adapters { get; init; } = [];

    public FusionSettings Fusion { get; init; } = FusionSettings.Dynamic;

    public override void Validate()
    {
        if (Adapters.Count < 2)
            throw Invalid($"`adapters` should list at least 2 adapters to fuse, got {Adapters.Count}{(Adapters.Count == 1 ? $" ({Adapters[0].Name})" : "")}; a fusion of one adapter is that adapter: train or serve it alone");
        foreach (var adapter in Adapters)
            RequireName(adapter.Name);
        if (Adapters.GroupBy(a => a.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
            throw Invalid($"`adapters` names {duplicate.Key} {duplicate.Count()} times; each fused adapter is a separate folder with its own name");
        if (Adapters.FirstOrDefault(a => !Sha256Pattern().IsMatch(a.Sha256 ?? "")) is { } unhashed)
            throw Invalid($"`adapters` entry {unhashed.Name} has sha256 \"{unhashed.Sha256}\"; expected 64 lower-case hex digits");
        if (Fusion is null)
            throw Invalid("`fusion` should be an object of AdapterFusionConfig fields, got null");
        if (Fusion.Temperature)
            throw Invalid("`fusion.temperature` true (AdapterHub's softmax temperature schedule) is not supported: its state is not saved with the weights; the dynamic and static configs use T = 1");
        if (Fusion.ResidualBefore)
            throw Invalid("`fusion.residual_before` true is not supported: both AdapterHub presets (dynamic, static) add the residual after the attention");
        if (Fusion.DropoutProb is < 0 or >= 1)
            throw Invalid($"`fusion.dropout_prob` should be in [0, 1), got {Fusion.DropoutProb}");
    }

    /// <summary>Throws unless <paramref name="name"/> can be a folder name inside the fusion folder (no separators, no "..").</summary>
    public static void RequireName(string? name)
    {
        if (name is null || !NamePattern().IsMatch(name) || name is "." or "..")
            throw Invalid($"fused adapter name \"{name}\" is not a plain folder name (letters, digits, '.', '_', '-'; at most 100)");
    }

    /// <summary>
    /// Where fused adapter <paramref name="index"/>'s tensor goes in the fusion model, from its own name relative to the
    /// encoder: <c>encoder.layer.0.output.adapter.down.weight</c> → <c>encoder.layer.0.output.adapter.adapters.1.down.weight</c>.
    /// The trainer's module tree and the side graph's inputs both use these names.
    /// </summary>
    public static string FusedParameter(string adapterParameter, int index)
    {
        ArgumentNullException.ThrowIfNull(adapterParameter);
        const string Site = ".adapter.";
        var at = adapterParameter.LastIndexOf(Site, StringComparison.Ordinal);
        if (at < 0)
            throw Invalid($"fused adapter tensor {adapterParameter} is not a bottleneck adapter parameter (<site>.adapter.<down|up>.<weight|bias>)");
        return $"{adapterParameter[..at]}{Site}{AdaptersModule}.{index}.{adapterParameter[(at + Site.Length)..]}";
    }

    /// <summary>The fusion weights' module at an adapter site, relative to the encoder: <c>encoder.layer.0.output.adapter.fusion</c>.</summary>
    public static string FusionModuleAt(string adapterModule) => $"{adapterModule}.{FusionModule}";

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Pattern();

    [GeneratedRegex("^[A-Za-z0-9._-]{1,100}$")]
    private static partial Regex NamePattern();
}
