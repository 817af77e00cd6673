using PeftOnnx.Core.Adapters.LoReft;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Onnx.Graph;
using PeftOnnx.Onnx.Modules;
using PeftOnnx.Onnx.Passes;
using static PeftOnnx.Onnx.Graph.OnnxNodes;
using DataType = Onnx.TensorProto.Types.DataType;

namespace PeftOnnx.Onnx.Methods.LoReft;

/// <summary>
/// LoReFT on the output of chosen layers. The positions are computed in the graph from attention_mask (first p and
/// last s real tokens, p and s from the adapter input <c>reft.positions</c>), so one graph serves every length and
/// right padding never moves them; each unit's edit is computed on every token and kept where its mask is 1:
/// <code>
///   attention_mask ─ ReduceSum ─ count (B, 1) ┬─ first = pos &lt; p ∧ pos &lt; count ───────────── ┐ Tile r, Concat
///   Range(T) ─ pos (1, T) ────────────────────┴─ last = count − s ≤ pos &lt; count ∧ ¬first ─────┘ mask (B, T, 2r)
///   h (B, T, H) ─ MatMul([A₀ A₁] (H, 2r)) ─ Add([b₀ b₁]) ─ Mul(mask) ─ MatMul([R₀; R₁] (2r, H)) ─ Add(h) ─ layer output
/// </code>
/// h + Rᵀ(W·h + b − R·h) = h + (h·(W − R)ᵀ + b)·R with Aᵤ = (Wᵤ − Rᵤ)ᵀ; the two units share one MatMul each way (their
/// columns side by side, the mask zeroing the unit a token does not use), so only two (B, T, H) tensors are added per
/// layer. An adapter with W = R and b = 0 (or R = 0) adds exactly 0. The mask's shape is declared (batch, sequence, 2r):
/// with a pooler head the [CLS]-only last layer (<see cref="ClsOnlyLastLayerPass"/>) then edits row 0 with mask row 0.
/// Mixed form: every input is a stack on a leading adapter axis, gathered per row by <c>adapter_index</c>
/// ((B, H, r), (B, r), (B, r, H), (B, 2)); slot 0 is zeros (no edit). Ranks pad with zero rows, which add 0.
/// </summary>
public sealed class LoReftPass : IGraphPass
{
    public const string PositionsName = "reft.positions";
    public const string SourceDelta = "source_delta";
    private const string Prefix = "loreft/";
    private readonly ModuleMap _map;
    private readonly IReadOnlyList<int> _layers;
    private readonly int _rank;
    private readonly string? _adapterIndex;
    private readonly string _attentionMask;
    private readonly string _lastHiddenState;

    /// <param name="map">The base model's modules.</param>
    /// <param name="layers">Layers whose output gets the intervention.</param>
    /// <param name="rank">The graph's rank (adapters of lower rank are zero-padded).</param>
    /// <param name="adapterIndex">The mixed form's per-row adapter input; null for the side form.</param>
    /// <param name="attentionMask">The graph's attention mask input, where the positions are counted.</param>
    /// <param name="lastHiddenState">The graph output the last layer hands on.</param>
    public LoReftPass(ModuleMap map, IReadOnlyList<int> layers, int rank, string? adapterIndex, string attentionMask = "attention_mask", string lastHiddenState = "last_hidden_state")
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.FirstOrDefault(l => l < 0 || l >= map.LayerCount, -1) is >= 0 and var bad)
            throw new InvalidDataException($"LoReFT names layer {bad}, but the base model has {map.LayerCount} layers (0..{map.LayerCount - 1}).");
        if (layers.Count == 0)
            throw new InvalidDataException("LoReFT needs at least one layer.");
        (_map, _layers, _rank, _adapterIndex, _attentionMask, _lastHiddenState) = (map, layers, rank, adapterIndex, attentionMask, lastHiddenState);
        var hidden = map["encoder.layer.0.attention.self.query"].InFeatures;
        var suffix = adapterIndex is null ? "" : SideAdapterCheck.StackSuffix;
        var slots = new List<SideParameterSlot> { new(PositionsName, PositionsName + suffix, [2]) };
        foreach (var layer in layers)
        {
            foreach (var unit in new[] { 0, 1 })
            {
                var module = LoReftConfig.UnitModule(layer, unit);
                slots.Add(new SideParameterSlot($"{module}.{SourceDelta}", $"{module}.{SourceDelta}{suffix}", [hidden, rank]));
                slots.Add(new SideParameterSlot($"{module}.{LoReftConfig.SourceBias}", $"{module}.{LoReftConfig.SourceBias}{suffix}", [rank]));
                slots.Add(new SideParameterSlot($"{module}.{LoReftConfig.Projection}", $"{module}.{LoReftConfig.Projection}{suffix}", [rank, hidden]));
            }
        }
        Slots = slots;
    }

    public string Name => "loreft";

    /// <summary>The adapter inputs: positions, then per layer and unit (W − R)ᵀ, b and R.</summary>
    public IReadOnlyList<SideParameterSlot> Slots { get; }

    public PassReport Collect(GraphRewrite rewrite)
    {
        ArgumentNullException.ThrowIfNull(rewrite);
        var index = rewrite.Index;
        var nodes = new PrefixedNodes(rewrite, Prefix);
        if (_adapterIndex is not null && !rewrite.Graph.Input.Any(i => i.Name == _adapterIndex))
            rewrite.AddInput(ValueInfo(_adapterIndex, DataType.Int64, "batch"));
        var bySlot = Slots.ToDictionary(s => s.Name, StringComparer.Ordinal);
        string Input(string name)
        {
            var slot = bySlot[name];
            return _adapterIndex is null
                ? nodes.OverridableInput(TensorData.FromFloat32(slot.Input, new float[slot.Shape.Aggregate(1L, (a, d) => a * d)], slot.Shape), [.. slot.Shape.Select(d => (object)d)])
                : nodes.Node("Gather", $"gather/{name}", [
                    nodes.OverridableInput(TensorData.FromFloat32(slot.Input, new float[slot.Shape.Aggregate(1L, (a, d) => a * d)], [1, .. slot.Shape]), ["adapters", .. slot.Shape.Select(d => (object)d)]),
                    _adapterIndex], IntAttribute("axis", 0)); // (B, ...)
        }
        var mask = PositionMasks(nodes, Input(PositionsName)); // (B, T, 2r): first for unit 0's r columns, last for unit 1's
        var axis1 = nodes.Int64s("axis1", 1);
        // Declared shapes let the [CLS]-only last layer see that the mask is per token (it reads row 0) and the bias per hidden row or per sequence.
        var tokens = rewrite.Graph.Input.FirstOrDefault(i => i.Name == _attentionMask)?.Type?.TensorType?.Shape?.Dim is { Count: 2 } dims ? dims : null;
        if (tokens is not null)
            rewrite.AddValueInfo(ValueInfo(mask, DataType.Float, tokens[0], tokens[1], 2 * _rank));
        foreach (var layer in _layers)
        {
            var output = LayerOutput(index, layer);
            var producer = index.Producer(output) ?? throw new InvalidDataException($"LoReFT: layer {layer}'s output '{output}' has no producing node.");
            var h = $"{Prefix}{layer}/h";
            var edited = rewrite.Edit(producer);
            edited.Output[edited.Output.IndexOf(output)] = h;
            string Both(string parameter, long axis) => nodes.Node("Concat", $"{layer}/{parameter}", [Input($"{LoReftConfig.UnitModule(layer, 0)}.{parameter}"), Input($"{LoReftConfig.UnitModule(layer, 1)}.{parameter}")], IntAttribute("axis", axis));
            var delta = Both(SourceDelta, -1);                     // (H, 2r) or (B, H, 2r)
            var bias = Both(LoReftConfig.SourceBias, -1);          // (2r) or (B, 2r)
            var projection = Both(LoReftConfig.Projection, -2);    // (2r, H) or (B, 2r, H)
            if (_adapterIndex is not null)
            {
                bias = nodes.Node("Unsqueeze", $"{layer}/bias3", [bias, axis1]); // (B, 1, 2r)
                if (tokens is not null)
                    rewrite.AddValueInfo(ValueInfo(bias, DataType.Float, tokens[0], 1, 2 * _rank));
            }
            else
            {
                rewrite.AddValueInfo(ValueInfo(bias, DataType.Float, 2 * _rank));
            }
            var z = nodes.Node("Add", $"{layer}/source", [nodes.Node("MatMul", $"{layer}/down", [h, delta]), bias]); // (B, T, 2r)
            var edit = nodes.Node("MatMul", $"{layer}/up", [nodes.Node("Mul", $"{layer}/masked", [z, mask]), projection]); // (B, T, H)
            nodes.NodeTo("Add", $"{layer}/output", [h, edit], output);
        }
        return PassReport.Of(this, _layers.Count, $"LoReFT (rank {_rank}) at the output of {_layers.Count} layers");
    }

    /// <summary>The (B, T, 2r) float mask: r columns of "among the first p real tokens", r of "among the last s" (a token in both counts as first).</summary>
    private string PositionMasks(PrefixedNodes nodes, string positions)
    {
        var counts = nodes.Node("Cast", "positions_int", [positions], IntAttribute("to", (long)DataType.Int64)); // (2) or (B, 2)
        var axis = _adapterIndex is null ? 0 : 1;
        var p = nodes.Node("Slice", "prefix", [counts, nodes.Int64s("zero", 0), nodes.Int64s("one", 1), nodes.Int64s("axis", axis)]); // (1) or (B, 1)
        var s = nodes.Node("Slice", "suffix", [counts, nodes.Int64s("one_", 1), nodes.Int64s("two", 2), nodes.Int64s("axis_", axis)]);
        var count = nodes.Node("ReduceSum", "real_tokens", [_attentionMask, nodes.Int64s("sum_axis", 1)], IntAttribute("keepdims", 1)); // (B, 1)
        var length = nodes.Node("Gather", "length", [nodes.Node("Shape", "mask_shape", [_attentionMask]), nodes.Initializer(TensorData.FromInt64(Prefix + "dim1", [1]))]); // scalar T
        var range = nodes.Node("Range", "range", [nodes.Initializer(TensorData.FromInt64(Prefix + "start", [0])), length, nodes.Initializer(TensorData.FromInt64(Prefix + "step", [1]))]); // (T)
        var position = nodes.Node("Unsqueeze", "position", [range, nodes.Int64s("axis0", 0)]); // (1, T)
        var real = nodes.Node("Less", "real", [position, count]);                            // (B, T)
        var first = nodes.Node("And", "first", [nodes.Node("Less", "before_p", [position, p]), real]);
        var fromEnd = nodes.Node("Not", "before_end", [nodes.Node("Less", "tail", [position, nodes.Node("Sub", "tail_start", [count, s])])]);
        var last = nodes.Node("And", "last", [nodes.Node("And", "last_real", [fromEnd, real]), nodes.Node("Not", "not_first", [first])]);
        var axisLast = nodes.Int64s("axis_last", -1);
        var repeat = nodes.Int64s("rank_repeat", 1, 1, _rank);
        string Columns(string name, string flags) => nodes.Node("Tile", $"{name}_r", [
            nodes.Node("Cast", $"{name}_f", [nodes.Node("Unsqueeze", $"{name}3", [flags, axisLast])], IntAttribute("to", (long)DataType.Float)), repeat]); // (B, T, r)
        return nodes.Node("Concat", "mask", [Columns("first", first), Columns("last", last)], IntAttribute("axis", -1)); // (B, T, 2r)
    }

    /// <summary>The hidden states layer <paramref name="layer"/> hands on: what the next layer's query reads, or last_hidden_state.</summary>
    private string LayerOutput(GraphIndex index, int layer)
    {
        if (layer + 1 < _map.LayerCount)
            return LinearSite.Find(index, _map[$"encoder.layer.{layer + 1}.attention.self.query"]).Input;
        if (index.Producer(_lastHiddenState) is null)
            throw new InvalidDataException($"LoReFT on the last layer edits '{_lastHiddenState}', which no node of the graph produces.");
        return _lastHiddenState;
    }
}
