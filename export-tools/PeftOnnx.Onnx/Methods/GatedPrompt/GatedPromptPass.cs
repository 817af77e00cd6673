using PeftOnnx.Core.Adapters.GatedPrompt;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Onnx.Graph;
using PeftOnnx.Onnx.Modules;
using PeftOnnx.Onnx.Passes;
using static PeftOnnx.Onnx.Graph.OnnxNodes;
using DataType = Onnx.TensorProto.Types.DataType;

namespace PeftOnnx.Onnx.Methods.GatedPrompt;

/// <summary>
/// Zero-init gated prompts: in each prompted layer one more small attention, from the layer's queries to K prompt
/// rows whose keys and values are constants of the adapter (key(P) and gate ⊙ value(P), computed at conversion, see
/// <see cref="GatedPromptSideGraph"/>), added to the attention context before its heads are merged (so before attention.output.dense):
/// <code>
///   query ─ Reshape ─ Transpose (B, heads, T, d) ─ MatMul(keys (heads, d, K)) ─ Mul(1/√d) ─ Softmax ─ MatMul(values (heads, K, d)) ─┐
///   attention probabilities ─ MatMul(V) ─ context (B, heads, T, d) ──────────────────────────────────────────────────────────── Add ─ Transpose ─ Reshape ─ attention.output.dense
/// </code>
/// The gate is folded into the values per head, so a closed gate (zero values) adds exactly 0. Mixed form: keys and
/// values are stacks [n, K, H] gathered per row by <c>adapter_index</c> ((B, heads, d, K), (B, heads, K, d)).
/// </summary>
public sealed class GatedPromptPass : IGraphPass
{
    public const string KeyName = "key";
    public const string ValueName = "value";
    private const string Prefix = "gated_prompt/";
    private readonly ModuleMap _map;
    private readonly IReadOnlyList<int> _layers;
    private readonly int _length;
    private readonly int _heads;
    private readonly string? _adapterIndex;

    public GatedPromptPass(ModuleMap map, IReadOnlyList<int> layers, int promptLength, int heads, string? adapterIndex)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.FirstOrDefault(l => l < 0 || l >= map.LayerCount, -1) is >= 0 and var bad)
            throw new InvalidDataException($"gated prompts name layer {bad}, but the base model has {map.LayerCount} layers (0..{map.LayerCount - 1}).");
        var hidden = map["encoder.layer.0.attention.self.query"].InFeatures;
        if (heads <= 0 || hidden % heads != 0)
            throw new InvalidDataException($"{heads} attention heads do not divide the hidden size {hidden}.");
        (_map, _layers, _length, _heads, _adapterIndex) = (map, layers, promptLength, heads, adapterIndex);
        var suffix = adapterIndex is null ? "" : SideAdapterCheck.StackSuffix;
        Slots = [.. layers.SelectMany(layer => new[] { KeyName, ValueName }.Select(kind =>
        {
            var name = $"{GatedPromptConfig.PromptModule(layer)}.{kind}";
            return new SideParameterSlot(name, name + suffix, [promptLength, hidden]);
        }))];
    }

    public string Name => "gated-prompt";

    /// <summary>The adapter inputs: per layer the prompt keys and the gated prompt values, [K, H] each.</summary>
    public IReadOnlyList<SideParameterSlot> Slots { get; }

    public PassReport Collect(GraphRewrite rewrite)
    {
        ArgumentNullException.ThrowIfNull(rewrite);
        var index = rewrite.Index;
        var nodes = new PrefixedNodes(rewrite, Prefix);
        if (_adapterIndex is not null && !rewrite.Graph.Input.Any(i => i.Name == _adapterIndex))
            rewrite.AddInput(ValueInfo(_adapterIndex, DataType.Int64, "batch"));
        var hidden = _map["encoder.layer.0.attention.self.query"].InFeatures;
        var headDim = hidden / _heads;
        var mixed = _adapterIndex is not null;
        var split = mixed ? nodes.Int64s("split_mixed", 0, _length, _heads, headDim) : nodes.Int64s("split", _length, _heads, headDim);
        var scale = nodes.Initializer(TensorData.FromFloat32(Prefix + "scale", [(float)(1.0 / Math.Sqrt(headDim))]));
        foreach (var layer in _layers)
        {
            var module = GatedPromptConfig.PromptModule(layer);
            string Constant(string kind, long[] perm)
            {
                var name = $"{module}.{kind}";
                var slot = Slots.First(s => s.Name == name);
                var value = mixed
                    ? nodes.Node("Gather", $"{layer}/{kind}_row", [
                        nodes.OverridableInput(TensorData.FromFloat32(slot.Input, new float[_length * hidden], 1, _length, hidden), "adapters", _length, hidden),
                        _adapterIndex!], IntAttribute("axis", 0)) // (B, K, H)
                    : nodes.OverridableInput(TensorData.FromFloat32(slot.Input, new float[_length * hidden], _length, hidden), _length, hidden);
                var heads4 = nodes.Node("Reshape", $"{layer}/{kind}_heads", [value, split]); // (K, heads, d) or (B, K, heads, d)
                return nodes.Node("Transpose", $"{layer}/{kind}_t", [heads4], IntsAttribute("perm", mixed ? [0, .. perm.Select(p => p + 1)] : perm));
            }
            var keys = Constant(KeyName, [1, 2, 0]);     // (heads, d, K)
            var values = Constant(ValueName, [1, 0, 2]); // (heads, K, d)
            var (q, context) = Attention(index, layer);                                                    // (B, heads, T, d) both
            var scores = nodes.Node("Mul", $"{layer}/scores", [nodes.Node("MatMul", $"{layer}/qk", [q, keys]), scale]); // (B, heads, T, K)
            var probabilities = nodes.Node("Softmax", $"{layer}/softmax", [scores], IntAttribute("axis", -1));
            var prompted = nodes.Node("MatMul", $"{layer}/context", [probabilities, values]);               // (B, heads, T, d)
            rewrite.Rewire(context, nodes.Node("Add", $"{layer}/add", [context, prompted]));
        }
        return PassReport.Of(this, _layers.Count, $"gated prompts ({_length} rows) in {_layers.Count} layers");
    }

    /// <summary>
    /// The layer's head-split queries and its attention context, both (B, heads, T, d): the query projection's
    /// Reshape ─ Transpose(0, 2, 1, 3), and the context the attention merges back (Transpose ─ Reshape ─ output.dense).
    /// </summary>
    private (string Query, string Context) Attention(GraphIndex index, int layer)
    {
        var module = $"encoder.layer.{layer}.attention.self.query";
        var projection = LinearSite.Find(index, _map[module]);
        var reshape = index.Consumers(projection.Output).FirstOrDefault(n => n.OpType == "Reshape" && n.Input[0] == projection.Output);
        var transpose = reshape is null ? null : index.Consumers(reshape.Output[0]).FirstOrDefault(n => n.OpType == "Transpose" && IsHeadSwap(n));
        var dense = LinearSite.Find(index, _map[$"encoder.layer.{layer}.attention.output.dense"]);
        var merge = index.Producer(dense.Input) is { OpType: "Reshape" } r ? index.Producer(r.Input[0]) : null;
        if (transpose is null || merge is not { OpType: "Transpose" } || !IsHeadSwap(merge))
            throw new InvalidDataException($"gated prompts: unhandled pattern in layer {layer}: expected query ─ Reshape ─ Transpose(0, 2, 1, 3) and context ─ Transpose(0, 2, 1, 3) ─ Reshape ─ attention.output.dense.");
        return (transpose.Output[0], merge.Input[0]);
    }

    private static bool IsHeadSwap(global::Onnx.NodeProto node) =>
        node.Attribute.FirstOrDefault(a => a.Name == "perm")?.Ints is { Count: 4 } perm && perm[0] == 0 && perm[1] == 2 && perm[2] == 1 && perm[3] == 3;
}
