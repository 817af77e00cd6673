using PeftOnnx.Onnx.Passes;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Onnx.Graph;
using PeftOnnx.Onnx.Modules;

namespace PeftOnnx.Onnx.Methods.Lora;

/// <summary>
/// Unmerged LoRA in ONNX Runtime's multi-LoRA contract: every target Linear gets a branch whose A and B are graph
/// inputs with initializer defaults (rank-1 zeros, so the graph alone is the base model). An active
/// <c>OrtLoraAdapter</c> feeds A [in, r] and B [r, out] (the LoRA scale folded into B); the rank axis is symbolic, so
/// adapters of any rank bind.
/// <code>
///   x ─ MatMul(W) ─ Add(b) ─ y          becomes     x ─ MatMul(W) ─ Add(b) ──────────── Add ─ y
///                                                   └─ MatMul(A [in, r]) ─ MatMul(B [r, out]) ─┘
/// </code>
/// The branch joins after the bias Add, which keeps ONNX Runtime's MatMul+Add and attention fusions of the base path.
/// </summary>
public sealed class LoraSidePass : IGraphPass
{
    private const string Prefix = "lora_side/";
    private readonly ModuleMap _map;

    /// <param name="modules">The Linear modules that get a branch.</param>
    /// <param name="map">The base model's modules.</param>
    /// <param name="baseModelName">For error messages.</param>
    public LoraSidePass(IReadOnlyList<string> modules, ModuleMap map, string baseModelName)
    {
        ArgumentNullException.ThrowIfNull(modules);
        ArgumentNullException.ThrowIfNull(map);
        _map = map;
        Slots = [.. modules.Select(name =>
        {
            var module = map.TryGet(name, out var m)
                ? m
                : throw new InvalidDataException($"the side graph should carry a LoRA branch at {name}, which {baseModelName} does not have; its Linear modules are {map.Summary()}.");
            return new SideLoraSlot(name, AInput(name), BInput(name), module.InFeatures, module.OutFeatures);
        })];
    }

    public string Name => "lora-side";

    /// <summary>The adapter inputs the graph gets, one A and B per module.</summary>
    public IReadOnlyList<SideLoraSlot> Slots { get; }

    public static string AInput(string module) => $"{module}.lora_A";

    public static string BInput(string module) => $"{module}.lora_B";

    public PassReport Collect(GraphRewrite rewrite)
    {
        ArgumentNullException.ThrowIfNull(rewrite);
        var nodes = new PrefixedNodes(rewrite, Prefix);
        foreach (var slot in Slots)
        {
            var (name, i, o) = (slot.Module, slot.InFeatures, slot.OutFeatures);
            var site = LinearSite.Find(rewrite.Index, _map[name]);
            var rank = $"lora_r_{name}";
            var a = nodes.OverridableInput(TensorData.FromFloat32(slot.AInput, new float[i], i, 1), i, rank);
            var b = nodes.OverridableInput(TensorData.FromFloat32(slot.BInput, new float[o], 1, o), rank, o);
            var down = nodes.Node("MatMul", $"{name}/down", [site.Input, a]); // (..., r)
            var up = nodes.Node("MatMul", $"{name}/up", [down, b]);           // (..., out)
            var sum = nodes.Node("Add", $"{name}/add", [site.Output, up]);
            rewrite.Rewire(site.Output, sum);
        }
        return PassReport.Of(this, Slots.Count, $"LoRA branches at {Slots.Count} modules");
    }
}
