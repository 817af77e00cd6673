using Onnx;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Onnx.Graph;
using PeftOnnx.Onnx.Modules;

namespace PeftOnnx.Onnx.Passes;

/// <summary>
/// Prefix tuning as PEFT 0.21 runs it for BERT: the table <c>prompt_embeddings</c> [P, layers·2·H] holds, for every
/// layer i, already-projected keys (slot 2i) and values (slot 2i+1), head-split as (heads, head_dim). Each layer's
/// attention reads [prefix; K(x)] and [prefix; V(x)]; the mask gains P leading ones; positions start at P
/// (BertEmbeddings offsets them by the cache length). Queries stay the L real tokens.
/// <code>
///   table (P, 2·layers·H) ─ Reshape (P, 2·layers, heads, d) ─ Gather(2i) (P, heads, d) ─ Unsqueeze ─ Expand (B, P, heads, d) ─┐
///   x ─ key MatMul ─ Add(bias) ─ Reshape (B, L, heads, d) ──────────────────────────────────────────────────── Concat(axis 1) ─ (B, P+L, heads, d) ─ Transpose ─ attention
/// </code>
/// </summary>
public static class PrefixTuningPass
{
    public const string TableInput = "prompt_embeddings";
    private const string Prefix = "prefix_tuning/";

    public static IReadOnlyList<SideParameterSlot> Apply(ModelProto model, ModuleMap map, float[] table, int tokens, int layers, int heads, int hidden, string attentionMask = "attention_mask")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(table);
        if (map.LayerCount != layers)
            throw new InvalidDataException($"the prefix table covers {layers} layers but the base model has {map.LayerCount}; the adapter was made for another base model.");
        var headDim = hidden / heads;
        var index = new GraphIndex(model.Graph);
        var site = EmbeddingSite.Find(index);
        var patch = new GraphPatch(Prefix);
        var width = layers * 2 * hidden;
        var prefix = patch.OverridableInput(TensorData.FromFloat32(TableInput, table, tokens, width), tokens, width);
        var split = patch.Node("Reshape", "split", [prefix, patch.Int64s("split_shape", tokens, 2 * layers, heads, headDim)]); // (P, 2·layers, heads, d)
        var axis0 = patch.Int64s("axis0", 0);
        var tail = patch.Int64s("ones3", 1, 1, 1);
        for (var layer = 0; layer < layers; layer++)
        {
            foreach (var (kind, slot) in new[] { ("key", 2 * layer), ("value", 2 * layer + 1) })
            {
                var heads4 = HeadSplit(index, map, $"encoder.layer.{layer}.attention.self.{kind}");
                var part = patch.Node("Gather", $"{layer}/{kind}", [split, patch.Int64s($"{layer}/{kind}_slot", slot)], GraphPatch.IntAttribute("axis", 1)); // (P, 1, heads, d)
                var part4 = patch.Node("Reshape", $"{layer}/{kind}_4d", [part, patch.Int64s($"{layer}/{kind}_shape", 1, tokens, heads, headDim)]); // (1, P, heads, d)
                var shape = patch.Node("Shape", $"{layer}/{kind}_x_shape", [heads4]);
                var batch = patch.Node("Slice", $"{layer}/{kind}_batch", [shape, axis0, patch.Int64s($"{layer}/{kind}_one", 1)]); // [1] = B
                var target = patch.Node("Concat", $"{layer}/{kind}_expand_shape", [batch, tail], GraphPatch.IntAttribute("axis", 0)); // [B, 1, 1, 1]
                var expanded = patch.Node("Expand", $"{layer}/{kind}_batch_prefix", [part4, target]); // (B, P, heads, d)
                var joined = patch.Node("Concat", $"{layer}/{kind}_with_prefix", [expanded, heads4], GraphPatch.IntAttribute("axis", 1)); // (B, P+L, heads, d)
                patch.Rewire(heads4, joined);
            }
        }
        VirtualTokenMask.Extend(patch, attentionMask, tokens);
        VirtualTokenMask.ShiftPositions(patch, site.PositionSlice, tokens, tokens);
        patch.Apply(model.Graph);
        return [new SideParameterSlot(TableInput, TableInput, [tokens, width])];
    }

    /// <summary>The (B, L, heads, d) Reshape of a key or value projection, before attention transposes it.</summary>
    private static string HeadSplit(GraphIndex index, ModuleMap map, string module)
    {
        var projection = LinearSite.Find(index, map[module]);
        var reshape = index.Consumers(projection.Output).FirstOrDefault(n => n.OpType == "Reshape" && n.Input[0] == projection.Output)
            ?? throw new InvalidDataException($"prefix tuning: unhandled pattern at {module}: its output {projection.Output} is not reshaped into heads.");
        return reshape.Output[0];
    }
}
