using PeftOnnx.Core.Adapters.Bottleneck;
using PeftOnnx.Core.Adapters.Fusion;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Onnx.Graph;
using PeftOnnx.Onnx.Methods.Bottleneck;
using PeftOnnx.Onnx.Modules;
using PeftOnnx.Onnx.Passes;
using static PeftOnnx.Onnx.Graph.OnnxNodes;

namespace PeftOnnx.Onnx.Methods.Fusion;

/// <summary>
/// AdapterFusion at every adapter site (AdapterHub's <c>BertFusion</c> over <c>compose_fuse</c>; the trainer's
/// FusionBlock): N bottleneck branches on the projection's output h, an attention over their outputs per token, and
/// the residual, before the layer's own residual Add and LayerNorm. Every weight (the N adapters' and the fusion's) is
/// a graph input in torch layout with the exported fusion's values as defaults, so another fusion of N adapters of the
/// same widths binds per run.
/// <code>
///   h ─┬─ adapter k: up_k(act(down_k(h))) (B, S, H) ─ Unsqueeze(2) ─ Concat(axis 2) ─ U (B, S, N, H) ─┬─ MatMul(Kᵀ) + b_K ─ Transpose ─ (B, S, H, N) ─┐
///      ├─ MatMul(Qᵀ) + b_Q ─ Unsqueeze(2) (B, S, 1, H) ──────────────────────────────────────────────│──────────────────────────────── MatMul ─ (B, S, 1, N) ─ Softmax ─┐
///      │                                                                                           └─ MatMul(Vᵀ) (B, S, N, H) ─────────────────────────────────────── MatMul ─ Squeeze(2) ─┐
///      └──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────── Add ─ (+ layer residual) ─ LayerNorm
/// </code>
/// </summary>
public sealed class AdapterFusionPass : IGraphPass
{
    private const string Prefix = "fusion/";
    private static readonly string[] AdapterParameters = ["down.weight", "down.bias", "up.weight", "up.bias"];
    private readonly ModuleMap _map;
    private readonly FusionSettings _settings;
    private readonly IReadOnlyList<BottleneckConfig> _adapters;
    private readonly IReadOnlyDictionary<string, (float[] Data, long[] Shape)> _weights;

    /// <param name="map">The base model's modules.</param>
    /// <param name="settings">The fusion's AdapterFusionConfig fields.</param>
    /// <param name="adapters">The fused adapters' configs, in fusion order (sites from the first; widths and activations their own).</param>
    /// <param name="weights">Tensors by slot name: <see cref="FrozenAdapterSet.Parameter"/> names for the adapters, <c>&lt;site&gt;.adapter.fusion.query.weight</c> ... for the fusion, float32.</param>
    public AdapterFusionPass(ModuleMap map, FusionSettings settings, IReadOnlyList<BottleneckConfig> adapters, IReadOnlyDictionary<string, (float[] Data, long[] Shape)> weights)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(adapters);
        ArgumentNullException.ThrowIfNull(weights);
        (_map, _settings, _adapters, _weights) = (map, settings, adapters, weights);
        var slots = new List<SideParameterSlot>();
        foreach (var (layer, siteName) in Sites())
        {
            if (layer >= map.LayerCount)
                throw new InvalidDataException($"the fused adapters' layers_to_transform names layer {layer}, but the base model has {map.LayerCount} layers (0..{map.LayerCount - 1}).");
            var module = BottleneckConfig.AdapterModule(layer, siteName);
            var names = Enumerable.Range(0, adapters.Count).SelectMany(k => AdapterParameters.Select(p => FrozenAdapterSet.Parameter($"{module}.{p}", k)))
                .Concat(FusionParameters().Select(p => $"{FusionConfig.FusionModuleAt(module)}.{p}"));
            foreach (var name in names)
            {
                if (!weights.TryGetValue(name, out var tensor))
                    throw new InvalidDataException($"the fusion has no {name}, which a fusion of {adapters.Count} {adapters[0].Variant} adapters on layer {layer} needs.");
                slots.Add(new SideParameterSlot(name, name, tensor.Shape));
            }
        }
        Slots = slots;
    }

    public string Name => "adapter-fusion";

    /// <summary>The adapter inputs: every fused adapter's down/up weights and biases and the fusion's projections, in torch layout.</summary>
    public IReadOnlyList<SideParameterSlot> Slots { get; }

    public PassReport Collect(GraphRewrite rewrite)
    {
        ArgumentNullException.ThrowIfNull(rewrite);
        var nodes = new PrefixedNodes(rewrite, Prefix);
        var axis2 = nodes.Int64s("axis2", 2);
        var count = 0;
        foreach (var (layer, siteName) in Sites())
        {
            var module = BottleneckConfig.AdapterModule(layer, siteName);
            var fusion = FusionConfig.FusionModuleAt(module);
            var h = LinearSite.Find(rewrite.Index, _map[$"encoder.layer.{layer}.{siteName}.dense"]).Output; // (B, S, H)
            string Input(string name)
            {
                var (data, shape) = _weights[name];
                return nodes.OverridableInput(TensorData.FromFloat32(name, data, shape), [.. shape.Select(d => (object)d)]);
            }
            string Linear(string name, string x, bool bias)
            {
                var wT = nodes.Node("Transpose", $"{fusion}.{name}/t", [Input($"{fusion}.{name}.weight")], IntsAttribute("perm", 1, 0)); // (H, H)
                var y = nodes.Node("MatMul", $"{fusion}.{name}/mm", [x, wT]);
                return bias ? nodes.Node("Add", $"{fusion}.{name}/add", [y, Input($"{fusion}.{name}.bias")]) : y;
            }

            var ups = new List<string>();
            for (var k = 0; k < _adapters.Count; k++)
            {
                var adapter = FrozenAdapterSet.Parameter($"{module}.x", k)[..^2];
                var up = BottleneckAdapterPass.Delta(nodes, adapter, h, p => Input($"{adapter}.{p}"), _adapters[k].NonLinearity);
                ups.Add(nodes.Node("Unsqueeze", $"{adapter}/u", [up, axis2])); // (B, S, 1, H)
            }
            var u = nodes.Node("Concat", $"{fusion}/u", ups, IntAttribute("axis", 2)); // (B, S, N, H)
            var q = _settings.Query ? Linear("query", h, bias: true) : h; // (B, S, H)
            var key = _settings.Key ? Linear("key", u, bias: true) : u; // (B, S, N, H)
            var value = _settings.Value ? Linear("value", u, bias: false) : u; // (B, S, N, H)
            var keyT = nodes.Node("Transpose", $"{fusion}/key_t", [key], IntsAttribute("perm", 0, 1, 3, 2)); // (B, S, H, N)
            var scores = nodes.Node("MatMul", $"{fusion}/scores", [nodes.Node("Unsqueeze", $"{fusion}/q4", [q, axis2]), keyT]); // (B, S, 1, N)
            var weights = nodes.Node("Softmax", $"{fusion}/softmax", [scores], IntAttribute("axis", -1)); // T = 1 (dynamic and static configs)
            var context = nodes.Node("Squeeze", $"{fusion}/context", [nodes.Node("MatMul", $"{fusion}/weighted", [weights, value]), axis2]); // (B, S, H)
            var output = nodes.Node("Add", $"{fusion}/residual", [h, context]);
            rewrite.Rewire(h, output);
            count++;
        }
        return PassReport.Of(this, count, $"{count} fusion sites over {_adapters.Count} {_adapters[0].Variant} adapters");
    }

    /// <summary>The fusion's own parameters at each site, as its settings have them.</summary>
    private IEnumerable<string> FusionParameters()
    {
        if (_settings.Query)
            yield return "query.weight";
        if (_settings.Query)
            yield return "query.bias";
        if (_settings.Key)
            yield return "key.weight";
        if (_settings.Key)
            yield return "key.bias";
        if (_settings.Value)
            yield return "value.weight";
    }

    private IEnumerable<(int Layer, string Site)> Sites() =>
        from layer in _adapters[0].LayersToTransform ?? [.. Enumerable.Range(0, _map.LayerCount)]
        from site in _adapters[0].Sites
        select (layer, site);
}
