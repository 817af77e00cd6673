using PeftOnnx.Onnx.Passes;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Onnx.Graph;
using PeftOnnx.Onnx.Modules;
using static PeftOnnx.Onnx.Graph.OnnxNodes;

namespace PeftOnnx.Onnx.Methods.PrefixTuning;

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
public sealed class PrefixTuningPass : IGraphPass
{
    public const string TableInput = "prompt_embeddings";
    private const string Prefix = "prefix_tuning/";
    private readonly ModuleMap _map;
    private readonly float[] _table;
    private readonly (int Tokens, int Layers, int Heads, int Hidden) _shape;
    private readonly string _attentionMask;

    public PrefixTuningPass(ModuleMap map, float[] table, int tokens, int layers, int heads, int hidden, string attentionMask = "attention_mask")
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(table);
        if (map.LayerCount != layers)
            throw new InvalidDataException($"the prefix table covers {layers} layers but the base model has {map.LayerCount}; the adapter was made for another base model.");
        (_map, _table, _shape, _attentionMask) = (map, table, (tokens, layers, heads, hidden), attentionMask);
        Slots = [new SideParameterSlot(TableInput, TableInput, [tokens, layers * 2 * hidden])];
    }

    public string Name => "prefix-tuning";

    /// <summary>The one adapter input: the per-layer key and value table.</summary>
    public IReadOnlyList<SideParameterSlot> Slots { get; }

    public PassReport Collect(GraphRewrite rewrite)
    {
        ArgumentNullException.ThrowIfNull(rewrite);
        var (tokens, layers, heads, hidden) = _shape;
        var headDim = hidden / heads;
        var index = rewrite.Index;
        var site = EmbeddingSite.Find(index);
        var nodes = new PrefixedNodes(rewrite, Prefix);
        var width = layers * 2 * hidden;
        var prefix = nodes.OverridableInput(TensorData.FromFloat32(TableInput, _table, tokens, width), tokens, width);
        var split = nodes.Node("Reshape", "split", [prefix, nodes.Int64s("split_shape", tokens, 2 * layers, heads, headDim)]); // (P, 2·layers, heads, d)
        var axis0 = nodes.Int64s("axis0", 0);
        var tail = nodes.Int64s("ones3", 1, 1, 1);
        for (var layer = 0; layer < layers; layer++)
        {
            foreach (var (kind, slot) in new[] { ("key", 2 * layer), ("value", 2 * layer + 1) })
            {
                var heads4 = HeadSplit(index, $"encoder.layer.{layer}.attention.self.{kind}");
                var part = nodes.Node("Gather", $"{layer}/{kind}", [split, nodes.Int64s($"{layer}/{kind}_slot", slot)], IntAttribute("axis", 1)); // (P, 1, heads, d)
                var part4 = nodes.Node("Reshape", $"{layer}/{kind}_4d", [part, nodes.Int64s($"{layer}/{kind}_shape", 1, tokens, heads, headDim)]); // (1, P, heads, d)
                var shape = nodes.Node("Shape", $"{layer}/{kind}_x_shape", [heads4]);
                var batch = nodes.Node("Slice", $"{layer}/{kind}_batch", [shape, axis0, nodes.Int64s($"{layer}/{kind}_one", 1)]); // [1] = B
                var target = nodes.Node("Concat", $"{layer}/{kind}_expand_shape", [batch, tail], IntAttribute("axis", 0)); // [B, 1, 1, 1]
                var expanded = nodes.Node("Expand", $"{layer}/{kind}_batch_prefix", [part4, target]); // (B, P, heads, d)
                var joined = nodes.Node("Concat", $"{layer}/{kind}_with_prefix", [expanded, heads4], IntAttribute("axis", 1)); // (B, P+L, heads, d)
                rewrite.Rewire(heads4, joined);
            }
        }
        VirtualTokenMask.Extend(nodes, _attentionMask, tokens);
        VirtualTokenMask.ShiftPositions(nodes, site.PositionSlice, tokens, tokens);
        return PassReport.Of(this, layers, $"{tokens} prefix keys and values in {layers} layers");
    }

    /// <summary>The (B, L, heads, d) Reshape of a key or value projection, before attention transposes it.</summary>
    private string HeadSplit(GraphIndex index, string module)
    {
        var projection = LinearSite.Find(index, _map[module]);
        var reshape = index.Consumers(projection.Output).FirstOrDefault(n => n.OpType == "Reshape" && n.Input[0] == projection.Output)
            ?? throw new InvalidDataException($"prefix tuning: unhandled pattern at {module}: its output {projection.Output} is not reshaped into heads.");
        return reshape.Output[0];
    }
}
