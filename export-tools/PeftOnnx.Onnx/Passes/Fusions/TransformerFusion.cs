using Onnx;

namespace PeftOnnx.Onnx.Passes.Fusions;

/// <summary>
/// Runs the transformer fusions in dependency order (layer norms before the skip layer norms built on them) and
/// declares the operator sets the fused nodes need: ai.onnx 17 for LayerNormalization, com.microsoft 1 for
/// SkipLayerNormalization, BiasGelu and Attention (ONNX Runtime's contrib operators).
/// </summary>
public static class TransformerFusion
{
    public const string MicrosoftDomain = "com.microsoft";

    /// <summary>All passes, in the order they must run.</summary>
    public static IReadOnlyList<IFusionPass> AllPasses { get; } =
        [new LayerNormFusion(), new SkipLayerNormFusion(), new BiasGeluFusion(), new AttentionFusion()];

    /// <summary>Applies <paramref name="passes"/> (default: <see cref="AllPasses"/>) in place and returns what each did.</summary>
    public static IReadOnlyList<FusionResult> Apply(ModelProto model, IEnumerable<IFusionPass>? passes = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var results = new List<FusionResult>();
        foreach (var pass in passes ?? AllPasses)
            results.Add(pass.Apply(model));
        RequireOpsets(model);
        return results;
    }

    /// <summary>
    /// Every selectable pass in pipeline order: <see cref="AllPasses"/> plus the MultiHeadAttention form of the attention
    /// fusion (an alternative to Attention, for graphs whose Q/K/V projections are quantized separately) and the
    /// embeddings fusion (after LayerNormalization; no gain measured on CPU, see docs/PERFORMANCE.md).
    /// </summary>
    public static IReadOnlyList<IFusionPass> SelectablePasses { get; } =
        [.. AllPasses, new AttentionFusion(AttentionFusionKind.MultiHeadAttention), new EmbedLayerNormFusion()];

    /// <summary>The pass named <paramref name="name"/> (case-insensitive), for `--fusions LayerNormalization,BiasGelu`.</summary>
    public static IFusionPass Find(string name) =>
        SelectablePasses.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown fusion '{name}'; expected one of {string.Join(", ", SelectablePasses.Select(p => p.Name))}.", nameof(name));

    private static void RequireOpsets(ModelProto model)
    {
        var nodes = model.Graph.Node;
        if (nodes.Any(n => n.Domain.Length == 0 && n.OpType == "LayerNormalization"))
        {
            var onnx = model.OpsetImport.FirstOrDefault(o => o.Domain.Length == 0 || o.Domain == "ai.onnx");
            if (onnx is null)
                model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
            else if (onnx.Version < 17)
                onnx.Version = 17;
        }
        if (nodes.Any(n => n.Domain == MicrosoftDomain) && model.OpsetImport.All(o => o.Domain != MicrosoftDomain))
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = MicrosoftDomain, Version = 1 });
    }
}
