using System.Text.Json.Serialization;

namespace PeftOnnx.Core.Adapters.LoReft;

/// <summary>
/// PeftOnnx's own peft_type "LOREFT" (PEFT has no ReFT): low-rank linear subspace representation fine-tuning as
/// pyreft's <c>LoreftIntervention</c> and the adapters library's <c>LoReftConfig</c> (adapters/methods/reft.py) run it.
/// At every chosen layer's output (the block output, after the feed-forward LayerNorm), at the first
/// <see cref="PrefixPositions"/> and the last <see cref="SuffixPositions"/> real tokens (counted from attention_mask,
/// so right padding never moves them): <c>h ← h + Rᵀ(W·h + b − R·h)</c>, R [r, hidden] with orthonormal rows.
/// Layout and key names: docs/ADAPTER_FORMAT.md.
/// </summary>
public sealed record LoReftConfig : PeftAdapterConfig
{
    public const string TypeName = "LOREFT";

    /// <summary>Largest deviation ‖R·Rᵀ − I‖max accepted as orthonormal; above it an imported adapter is refused.</summary>
    public const double OrthonormalTolerance = 1e-3;

    public override string PeftType => TypeName;

    /// <summary>Rank of the intervened subspace.</summary>
    public int R { get; init; } = 1;

    /// <summary>Encoder layers whose output is intervened on; null means all.</summary>
    public IReadOnlyList<int>? Layers { get; init; }

    /// <summary>How many leading real tokens (f in pyreft's "f1+l1").</summary>
    public int PrefixPositions { get; init; } = 1;

    /// <summary>How many trailing real tokens (l in "f1+l1").</summary>
    public int SuffixPositions { get; init; } = 1;

    /// <summary>True: the prefix and suffix positions share one (R, W, b) per layer; false: each has its own.</summary>
    public bool TiedWeights { get; init; }

    /// <summary>Dropout on the intervened states during training (pyreft and adapters apply it to h + delta).</summary>
    public double Dropout { get; init; } = 0.05;

    public override void Validate()
    {
        if (R <= 0)
            throw Invalid($"`r` should be positive, got {R}");
        if (PrefixPositions < 0 || SuffixPositions < 0)
            throw Invalid($"`prefix_positions` and `suffix_positions` should not be negative, got {PrefixPositions} and {SuffixPositions}");
        if (PrefixPositions + SuffixPositions == 0)
            throw Invalid("`prefix_positions` + `suffix_positions` should be at least 1, got 0: the intervention would touch no token");
        if (Layers?.FirstOrDefault(l => l < 0) is < 0 and var bad)
            throw Invalid($"`layers` holds layer indices, got {bad}");
        if (Dropout is < 0 or >= 1)
            throw Invalid($"`dropout` should be in [0, 1), got {Dropout}");
    }

    /// <summary>The intervened layers of an encoder with <paramref name="layerCount"/> layers; throws naming an index beyond it.</summary>
    public IReadOnlyList<int> LayersOf(int layerCount)
    {
        var layers = Layers ?? [.. Enumerable.Range(0, layerCount)];
        if (layers.FirstOrDefault(l => l >= layerCount, -1) is >= 0 and var bad)
            throw Invalid($"`layers` names layer {bad}, but the encoder has {layerCount} layers (0..{layerCount - 1})");
        return [.. layers.Distinct().Order()];
    }

    /// <summary>Units per layer: one when tied, else the prefix unit 0 and the suffix unit 1.</summary>
    [JsonIgnore]
    public IReadOnlyList<int> Units => TiedWeights ? [0] : [0, 1];

    /// <summary>Module of one unit: parameters <c>.projection.weight</c> (R [r, hidden]), <c>.learned_source.weight</c> (W [r, hidden]), <c>.learned_source.bias</c> (b [r]).</summary>
    public static string UnitModule(int layer, int unit) => $"encoder.layer.{layer}.reft.units.{unit}";

    public const string Projection = "projection.weight";
    public const string SourceWeight = "learned_source.weight";
    public const string SourceBias = "learned_source.bias";
}
