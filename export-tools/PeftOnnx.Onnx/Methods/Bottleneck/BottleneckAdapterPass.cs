using PeftOnnx.Onnx.Passes;
using PeftOnnx.Core.Adapters.Bottleneck;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Onnx.Graph;
using PeftOnnx.Onnx.Modules;
using static PeftOnnx.Onnx.Graph.OnnxNodes;

namespace PeftOnnx.Onnx.Methods.Bottleneck;

/// <summary>
/// Bottleneck adapters (Houlsby: after attention.output.dense and output.dense; Pfeiffer: after output.dense) inserted
/// as branches, h + up(act(down(h))) on the projection's output before the residual Add and LayerNorm
/// (docs/ADAPTER_FORMAT.md); a stack (<see cref="Stacked"/>) chains several at each site, each reading the previous
/// one's output. The down/up weights are graph inputs in torch layout [out, in] with the exported adapter's values as
/// defaults, so another adapter (or stack) of the same shapes binds per run.
/// <code>
///   x ─ MatMul(W) ─ Add(b) ─ h ─────────────────────────────────────────────────────────── Add ─ (+ residual) ─ LayerNorm
///                            └─ MatMul(downᵀ) ─ Add(down.b) ─ act ─ MatMul(upᵀ) ─ Add(up.b) ─┘
///   stacked: h ─ [adapter 0] ─ h₀ ─ [adapter 1] ─ h₁ … ─ (+ residual) ─ LayerNorm
/// </code>
/// </summary>
public sealed class BottleneckAdapterPass : IGraphPass
{
    private const string Prefix = "bottleneck/";
    private static readonly string[] Parameters = ["down.weight", "down.bias", "up.weight", "up.bias"];
    private readonly ModuleMap _map;
    private readonly IReadOnlyList<BottleneckConfig> _stack;
    private readonly Func<string, int, string> _moduleOf;
    private readonly IReadOnlyDictionary<string, (float[] Data, long[] Shape)> _weights;

    /// <param name="map">The base model's modules.</param>
    /// <param name="config">Variant, layers and activation.</param>
    /// <param name="weights">Adapter tensors by slot name (<c>encoder.layer.i.&lt;site&gt;.adapter.down.weight</c>, ...), float32.</param>
    public BottleneckAdapterPass(ModuleMap map, BottleneckConfig config, IReadOnlyDictionary<string, (float[] Data, long[] Shape)> weights)
        : this(map, [config], weights, (module, _) => module)
    {
    }

    private BottleneckAdapterPass(ModuleMap map, IReadOnlyList<BottleneckConfig> stack, IReadOnlyDictionary<string, (float[] Data, long[] Shape)> weights, Func<string, int, string> moduleOf)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(stack);
        ArgumentNullException.ThrowIfNull(weights);
        (_map, _stack, _weights, _moduleOf) = (map, stack, weights, moduleOf);
        var slots = new List<SideParameterSlot>();
        foreach (var (layer, siteName) in Sites())
        {
            if (layer >= map.LayerCount)
                throw new InvalidDataException($"layers_to_transform names layer {layer}, but the base model has {map.LayerCount} layers (0..{map.LayerCount - 1}).");
            for (var k = 0; k < stack.Count; k++)
            {
                foreach (var parameter in Parameters)
                {
                    var name = $"{moduleOf(BottleneckConfig.AdapterModule(layer, siteName), k)}.{parameter}";
                    if (!weights.TryGetValue(name, out var tensor))
                        throw new InvalidDataException($"the bottleneck adapter has no {name}, which a {stack[k].Variant} adapter on layer {layer} needs.");
                    slots.Add(new SideParameterSlot(name, name, tensor.Shape));
                }
            }
        }
        Slots = slots;
    }

    /// <summary>
    /// A stack (AdapterHub's <c>Stack</c>): at every site of <paramref name="stack"/>[0] (all share their sites), adapter k
    /// reads adapter k − 1's output; adapter k's tensors are named <c>&lt;site&gt;.adapter.adapters.&lt;k&gt;.down.weight</c> ... (<see cref="FrozenAdapterSet.Parameter"/>).
    /// </summary>
    public static BottleneckAdapterPass Stacked(ModuleMap map, IReadOnlyList<BottleneckConfig> stack, IReadOnlyDictionary<string, (float[] Data, long[] Shape)> weights)
    {
        ArgumentNullException.ThrowIfNull(stack);
        if (stack.Count < 2)
            throw new ArgumentException($"a stack holds at least 2 adapters, got {stack.Count}.", nameof(stack));
        return new BottleneckAdapterPass(map, stack, weights, FrozenAdapterSet.ModuleAt);
    }

    public string Name => "bottleneck-adapter";

    /// <summary>The adapter inputs: down and up weights and biases of every adapter, in torch layout.</summary>
    public IReadOnlyList<SideParameterSlot> Slots { get; }

    public PassReport Collect(GraphRewrite rewrite)
    {
        ArgumentNullException.ThrowIfNull(rewrite);
        var nodes = new PrefixedNodes(rewrite, Prefix);
        var count = 0;
        foreach (var (layer, siteName) in Sites())
        {
            var site = LinearSite.Find(rewrite.Index, _map[$"encoder.layer.{layer}.{siteName}.dense"]);
            var h = site.Output;
            for (var k = 0; k < _stack.Count; k++)
            {
                var module = _moduleOf(BottleneckConfig.AdapterModule(layer, siteName), k);
                string Input(string parameter)
                {
                    var (data, shape) = _weights[$"{module}.{parameter}"];
                    return nodes.OverridableInput(TensorData.FromFloat32($"{module}.{parameter}", data, shape), [.. shape.Select(d => (object)d)]);
                }
                var up = Delta(nodes, module, h, Input, _stack[k].NonLinearity);
                h = nodes.Node("Add", $"{module}/residual", [h, up]); // the next adapter reads this, residual included
            }
            rewrite.Rewire(site.Output, h);
            count++;
        }
        var what = _stack.Count == 1 ? $"{_stack[0].Variant} adapters" : $"{_stack[0].Variant} sites of {_stack.Count} stacked adapters";
        return PassReport.Of(this, count, $"{count} {what}");
    }

    /// <summary>
    /// up(act(down(h))) (B, S, H) of the adapter at <paramref name="module"/>, without the residual; <paramref name="input"/>
    /// gives the graph value of a parameter ("down.weight", ...). AdapterFusion attends over these.
    /// </summary>
    public static string Delta(PrefixedNodes nodes, string module, string h, Func<string, string> input, string nonLinearity)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(input);
        var downT = nodes.Node("Transpose", $"{module}/down_t", [input("down.weight")], IntsAttribute("perm", 1, 0)); // (H, r)
        var down = nodes.Node("Add", $"{module}/down", [nodes.Node("MatMul", $"{module}/down_mm", [h, downT]), input("down.bias")]); // (B, S, r)
        var act = Activation(nodes, module, nonLinearity, down);
        var upT = nodes.Node("Transpose", $"{module}/up_t", [input("up.weight")], IntsAttribute("perm", 1, 0)); // (r, H)
        return nodes.Node("Add", $"{module}/up", [nodes.Node("MatMul", $"{module}/up_mm", [act, upT]), input("up.bias")]); // (B, S, H)
    }

    private IEnumerable<(int Layer, string Site)> Sites() =>
        from layer in _stack[0].LayersToTransform ?? [.. Enumerable.Range(0, _map.LayerCount)]
        from site in _stack[0].Sites
        select (layer, site);

    /// <summary>relu, exact (erf) gelu as torch's default, swish = x·sigmoid(x) (silu), tanh; opset 13 has no Gelu op.</summary>
    private static string Activation(PrefixedNodes nodes, string module, string kind, string x) => kind switch
    {
        "relu" => nodes.Node("Relu", $"{module}/relu", [x]),
        "tanh" => nodes.Node("Tanh", $"{module}/tanh", [x]),
        "swish" => nodes.Node("Mul", $"{module}/swish", [x, nodes.Node("Sigmoid", $"{module}/sigmoid", [x])]),
        "gelu" => nodes.Node("Mul", $"{module}/gelu", [
            nodes.Node("Mul", $"{module}/gelu_half", [x, nodes.Initializer(TensorData.FromFloat32($"{nodes.Prefix}{module}/half", [0.5f]))]),
            nodes.Node("Add", $"{module}/gelu_1p", [
                nodes.Node("Erf", $"{module}/erf", [nodes.Node("Div", $"{module}/gelu_scaled", [x, nodes.Initializer(TensorData.FromFloat32($"{nodes.Prefix}{module}/sqrt2", [MathF.Sqrt(2f)]))])]),
                nodes.Initializer(TensorData.FromFloat32($"{nodes.Prefix}{module}/one", [1f]))])]),
        _ => throw new NotSupportedException($"non_linearity \"{kind}\" has no ONNX form here; use relu, gelu, swish or tanh."),
    };
}
