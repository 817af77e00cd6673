using Onnx;

namespace PeftOnnx.Onnx.Passes.Fusions;

/// <summary>
/// The transformer fusions in dependency order (layer norms before the skip layer norms built on them). Each declares
/// the operator set its fused nodes need: ai.onnx 17 for LayerNormalization, com.microsoft 1 for
/// SkipLayerNormalization, BiasGelu and Attention (ONNX Runtime's contrib operators).
/// </summary>
public static class TransformerFusion
{
    public const string MicrosoftDomain = "com.microsoft";

    /// <summary>All passes, in the order they must run.</summary>
    public static IReadOnlyList<IGraphPass> AllPasses { get; } =
        [new LayerNormFusion(), new SkipLayerNormFusion(), new BiasGeluFusion(), new AttentionFusion()];

    /// <summary>Applies <paramref name="passes"/> (default: <see cref="AllPasses"/>) in place and returns what each did.</summary>
    public static IReadOnlyList<PassReport> Apply(ModelProto model, IEnumerable<IGraphPass>? passes = null) =>
        model.Apply(passes ?? AllPasses);

    /// <summary>
    /// Every selectable pass in pipeline order: <see cref="AllPasses"/> plus the MultiHeadAttention form of the attention
    /// fusion (an alternative to Attention, for graphs whose Q/K/V projections are quantized separately) and the
    /// embeddings fusion (after LayerNormalization; no gain measured on CPU, see docs/PERFORMANCE.md).
    /// </summary>
    public static IReadOnlyList<IGraphPass> SelectablePasses { get; } =
        [.. AllPasses, new AttentionFusion(AttentionFusionKind.MultiHeadAttention), new EmbedLayerNormFusion()];

    /// <summary>The pass named <paramref name="name"/> (case-insensitive), for `--fusions LayerNormalization,BiasGelu`.</summary>
    public static IGraphPass Find(string name) =>
        SelectablePasses.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown fusion '{name}'; expected one of {string.Join(", ", SelectablePasses.Select(p => p.Name))}.", nameof(name));
}
