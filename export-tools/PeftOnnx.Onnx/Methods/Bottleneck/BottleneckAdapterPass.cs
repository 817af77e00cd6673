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
/// (docs/ADAPTER_FORMAT.md). The down/up weights are graph inputs in torch layout [out, in] with the exported adapter's
/// values as defaults, so another bottleneck adapter of the same shape binds per run.
/// <code>
///   x ─ MatMul(W) ─ Add(b) ─ h ─────────────────────────────────────────────────────────── Add ─ (+ residual) ─ LayerNorm
///                            └─ MatMul(downᵀ) ─ Add(down.b) ─ act ─ MatMul(upᵀ) ─ Add(up.b) ─┘
/// </code>
/// </summary>
public sealed class BottleneckAdapterPass : IGraphPass
{
    private const string Prefix = "bottleneck/";
    private static readonly string[] Parameters = ["down.weight", "down.bias", "up.weight", "up.bias"];
    private readonly ModuleMap _map;
    private readonly BottleneckConfig _config;
    private readonly IReadOnlyDictionary<string, (float[] Data, long[] Shape)> _weights;

    /// <param name="map">The base model's modules.</param>
    /// <param name="config">Variant, layers and activation.</param>
    /// <param name="weights">Adapter tensors by slot name (<c>encoder.layer.i.&lt;site&gt;.adapter.down.weight</c>, ...), float32.</param>
    public BottleneckAdapterPass(ModuleMap map, BottleneckConfig config, IReadOnlyDictionary<string, (float[] Data, long[] Shape)> weights)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        (_map, _config, _weights) = (map, config, weights);
        var slots = new List<SideParameterSlot>();
        foreach (var (layer, siteName) in Sites())
        {
            if (layer >= map.LayerCount)
                throw new InvalidDataException($"layers_to_transform names layer {layer}, but the base model has {map.LayerCount} layers (0..{map.LayerCount - 1}).");
            foreach (var parameter in Parameters)
            {
                var name = $"{BottleneckConfig.AdapterModule(layer, siteName)}.{parameter}";
                if (!weights.TryGetValue(name, out var tensor))
                    throw new InvalidDataException($"the bottleneck adapter has no {name}, which a {config.Variant} adapter on layer {layer} needs.");
                slots.Add(new SideParameterSlot(name, name, tensor.Shape));
            }
        }
        Slots = slots;
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
            var module = BottleneckConfig.AdapterModule(layer, siteName);
            var site = LinearSite.Find(rewrite.Index, _map[$"encoder.layer.{layer}.{siteName}.dense"]);
            string Input(string parameter)
            {
                var (data, shape) = _weights[$"{module}.{parameter}"];
                return nodes.OverridableInput(TensorData.FromFloat32($"{module}.{parameter}", data, shape), [.. shape.Select(d => (object)d)]);
            }
            var up = Delta(nodes, module, site.Output, Input, _config.NonLinearity);
            var sum = nodes.Node("Add", $"{module}/residual", [site.Output, up]);
            rewrite.Rewire(site.Output, sum);
            count++;
        }
        return PassReport.Of(this, count, $"{count} {_config.Variant} adapters");
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
        from layer in _config.LayersToTransform ?? [.. Enumerable.Range(0, _map.LayerCount)]
        from site in _config.Sites
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
