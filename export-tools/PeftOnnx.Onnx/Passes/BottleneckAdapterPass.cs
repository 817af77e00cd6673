using Onnx;
using PeftOnnx.Core.Adapters.Bottleneck;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Onnx.Graph;
using PeftOnnx.Onnx.Modules;

namespace PeftOnnx.Onnx.Passes;

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
public static class BottleneckAdapterPass
{
    private const string Prefix = "bottleneck/";

    /// <summary>Inserts the adapters; returns their graph inputs.</summary>
    /// <param name="model">Changed in place.</param>
    /// <param name="map">The base model's modules.</param>
    /// <param name="config">Variant, layers and activation.</param>
    /// <param name="weights">Adapter tensors by slot name (<c>encoder.layer.i.&lt;site&gt;.adapter.down.weight</c>, ...), float32.</param>
    public static IReadOnlyList<SideParameterSlot> Apply(ModelProto model, ModuleMap map, BottleneckConfig config, IReadOnlyDictionary<string, (float[] Data, long[] Shape)> weights)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        var index = new GraphIndex(model.Graph);
        var patch = new GraphPatch(Prefix);
        var slots = new List<SideParameterSlot>();
        var layers = config.LayersToTransform ?? [.. Enumerable.Range(0, map.LayerCount)];
        foreach (var layer in layers)
        {
            if (layer >= map.LayerCount)
                throw new InvalidDataException($"layers_to_transform names layer {layer}, but the base model has {map.LayerCount} layers (0..{map.LayerCount - 1}).");
            foreach (var siteName in config.Sites)
            {
                var module = BottleneckConfig.AdapterModule(layer, siteName);
                var site = LinearSite.Find(index, map[$"encoder.layer.{layer}.{siteName}.dense"]);
                string Input(string parameter)
                {
                    var name = $"{module}.{parameter}";
                    if (!weights.TryGetValue(name, out var tensor))
                        throw new InvalidDataException($"the bottleneck adapter has no {name}, which a {config.Variant} adapter on layer {layer} needs.");
                    slots.Add(new SideParameterSlot(name, name, tensor.Shape));
                    return patch.OverridableInput(TensorData.FromFloat32(name, tensor.Data, tensor.Shape), [.. tensor.Shape.Select(d => (object)d)]);
                }
                var downT = patch.Node("Transpose", $"{module}/down_t", [Input("down.weight")], GraphPatch.IntsAttribute("perm", 1, 0)); // (H, r)
                var down = patch.Node("Add", $"{module}/down", [patch.Node("MatMul", $"{module}/down_mm", [site.Output, downT]), Input("down.bias")]); // (B, S, r)
                var act = Activation(patch, module, config.NonLinearity, down);
                var upT = patch.Node("Transpose", $"{module}/up_t", [Input("up.weight")], GraphPatch.IntsAttribute("perm", 1, 0)); // (r, H)
                var up = patch.Node("Add", $"{module}/up", [patch.Node("MatMul", $"{module}/up_mm", [act, upT]), Input("up.bias")]); // (B, S, H)
                var sum = patch.Node("Add", $"{module}/residual", [site.Output, up]);
                patch.Rewire(site.Output, sum);
            }
        }
        patch.Apply(model.Graph);
        return slots;
    }

    /// <summary>relu, exact (erf) gelu as torch's default, swish = x·sigmoid(x) (silu), tanh; opset 13 has no Gelu op.</summary>
    private static string Activation(GraphPatch patch, string module, string kind, string x) => kind switch
    {
        "relu" => patch.Node("Relu", $"{module}/relu", [x]),
        "tanh" => patch.Node("Tanh", $"{module}/tanh", [x]),
        "swish" => patch.Node("Mul", $"{module}/swish", [x, patch.Node("Sigmoid", $"{module}/sigmoid", [x])]),
        "gelu" => patch.Node("Mul", $"{module}/gelu", [
            patch.Node("Mul", $"{module}/gelu_half", [x, patch.Initializer(TensorData.FromFloat32($"{Prefix}{module}/half", [0.5f]))]),
            patch.Node("Add", $"{module}/gelu_1p", [
                patch.Node("Erf", $"{module}/erf", [patch.Node("Div", $"{module}/gelu_scaled", [x, patch.Initializer(TensorData.FromFloat32($"{Prefix}{module}/sqrt2", [MathF.Sqrt(2f)]))])]),
                patch.Initializer(TensorData.FromFloat32($"{Prefix}{module}/one", [1f]))])]),
        _ => throw new NotSupportedException($"non_linearity \"{kind}\" has no ONNX form here; use relu, gelu, swish or tanh."),
    };
}
