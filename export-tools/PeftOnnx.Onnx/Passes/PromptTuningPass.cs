using Onnx;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Onnx.Graph;

namespace PeftOnnx.Onnx.Passes;

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
public static class PromptTuningPass
{
    public const string TableInput = "prompt_embeddings";
    private const string Prefix = "prompt_tuning/";

    public static IReadOnlyList<SideParameterSlot> Apply(ModelProto model, float[] table, int tokens, int hidden, string attentionMask = "attention_mask")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(table);
        var index = new GraphIndex(model.Graph);
        var site = EmbeddingSite.Find(index);
        var patch = new GraphPatch(Prefix);
        var prompt = patch.OverridableInput(TensorData.FromFloat32(TableInput, table, tokens, hidden), tokens, hidden);
        var typeZero = patch.Node("Gather", "type0", [EmbeddingSite.TokenTypeEmbeddings, patch.Int64s("type0_index", 0)], GraphPatch.IntAttribute("axis", 0)); // (1, H)
        var rows = patch.Node("Add", "rows", [prompt, typeZero]);                                          // (P, H)
        var rows3 = patch.Node("Unsqueeze", "rows3", [rows, patch.Int64s("axis0", 0)]);                    // (1, P, H)
        var summed = site.WordTypeAdd.Output[0];
        var shape = patch.Node("Shape", "shape", [summed]);                                                // [3]
        var batch = patch.Node("Slice", "batch", [shape, patch.Int64s("zero", 0), patch.Int64s("one", 1)]); // [1] = B
        var target = patch.Node("Concat", "expand_shape", [batch, patch.Int64s("ones2", 1, 1)], GraphPatch.IntAttribute("axis", 0)); // [B, 1, 1]
        var expanded = patch.Node("Expand", "rows_batch", [rows3, target]);                                // (B, P, H)
        var joined = patch.Node("Concat", "embeddings", [expanded, summed], GraphPatch.IntAttribute("axis", 1));    // (B, P+L, H)
        patch.Rewire(summed, joined);
        VirtualTokenMask.Extend(patch, attentionMask, tokens);
        VirtualTokenMask.ShiftPositions(patch, site.PositionSlice, 0, tokens);
        patch.Apply(model.Graph);
        return [new SideParameterSlot(TableInput, TableInput, [tokens, hidden])];
    }
}
