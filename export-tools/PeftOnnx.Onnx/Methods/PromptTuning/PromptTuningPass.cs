using PeftOnnx.Onnx.Passes;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Onnx.Graph;
using static PeftOnnx.Onnx.Graph.OnnxNodes;

namespace PeftOnnx.Onnx.Methods.PromptTuning;

/// <summary>
/// Prompt tuning as PEFT 0.21 runs it for BERT: P virtual-token embeddings (the graph input <c>prompt_embeddings</c>
/// [P, H], default = the exported adapter's table) are prepended to the word embeddings with token type 0; the
/// attention mask gets P leading ones and positions run 0..P+L-1, so the real [CLS] sits at position P and h[:, 0]
/// (what the pooler reads) is the first virtual token.
/// <code>
///   Gather(word_emb, ids) + Gather(type_emb, types) ─ s (B, L, H)
///   prompt_embeddings (P, H) + type_emb[0] ─ Unsqueeze (1, P, H) ─ Expand (B, P, H) ─ Concat(·, s, axis 1) ─ (B, P+L, H) ─ + positions ─ LayerNorm
/// </code>
/// </summary>
public sealed class PromptTuningPass(float[] table, int tokens, int hidden, string attentionMask = "attention_mask") : IGraphPass
{
    public const string TableInput = "prompt_embeddings";
    private const string Prefix = "prompt_tuning/";

    public string Name => "prompt-tuning";

    /// <summary>The one adapter input: the virtual-token table.</summary>
    public IReadOnlyList<SideParameterSlot> Slots { get; } = [new SideParameterSlot(TableInput, TableInput, [tokens, hidden])];

    public PassReport Collect(GraphRewrite rewrite)
    {
        ArgumentNullException.ThrowIfNull(rewrite);
        ArgumentNullException.ThrowIfNull(table);
        var site = EmbeddingSite.Find(rewrite.Index);
        var nodes = new PrefixedNodes(rewrite, Prefix);
        var prompt = nodes.OverridableInput(TensorData.FromFloat32(TableInput, table, tokens, hidden), tokens, hidden);
        var typeZero = nodes.Node("Gather", "type0", [EmbeddingSite.TokenTypeEmbeddings, nodes.Int64s("type0_index", 0)], IntAttribute("axis", 0)); // (1, H)
        var rows = nodes.Node("Add", "rows", [prompt, typeZero]);                                          // (P, H)
        var rows3 = nodes.Node("Unsqueeze", "rows3", [rows, nodes.Int64s("axis0", 0)]);                    // (1, P, H)
        var summed = site.WordTypeAdd.Output[0];
        var shape = nodes.Node("Shape", "shape", [summed]);                                                // [3]
        var batch = nodes.Node("Slice", "batch", [shape, nodes.Int64s("zero", 0), nodes.Int64s("one", 1)]); // [1] = B
        var target = nodes.Node("Concat", "expand_shape", [batch, nodes.Int64s("ones2", 1, 1)], IntAttribute("axis", 0)); // [B, 1, 1]
        var expanded = nodes.Node("Expand", "rows_batch", [rows3, target]);                                // (B, P, H)
        var joined = nodes.Node("Concat", "embeddings", [expanded, summed], IntAttribute("axis", 1));    // (B, P+L, H)
        rewrite.Rewire(summed, joined);
        VirtualTokenMask.Extend(nodes, attentionMask, tokens);
        VirtualTokenMask.ShiftPositions(nodes, site.PositionSlice, 0, tokens);
        return PassReport.Of(this, 1, $"{tokens} virtual tokens before the word embeddings");
    }
}
