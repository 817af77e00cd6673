using Onnx;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Onnx.Graph;
using PeftOnnx.Onnx.Modules;

namespace PeftOnnx.Onnx.Passes;

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
public sealed class LoraSidePass(IReadOnlyList<string> modules)
{
    private const string Prefix = "lora_side/";

    public static string AInput(string module) => $"{module}.lora_A";

    public static string BInput(string module) => $"{module}.lora_B";

    public IReadOnlyList<SideLoraSlot> Apply(ModelProto model, ModuleMap map, string baseModelName)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(map);
        var index = new GraphIndex(model.Graph);
        var patch = new GraphPatch(Prefix);
        var slots = new List<SideLoraSlot>();
        foreach (var name in modules)
        {
            var module = map.TryGet(name, out var m)
                ? m
                : throw new InvalidDataException($"the side graph should carry a LoRA branch at {name}, which {baseModelName} does not have; its Linear modules are {map.Summary()}.");
            var site = LinearSite.Find(index, module);
            var rank = $"lora_r_{name}";
            var a = patch.OverridableInput(TensorData.FromFloat32(AInput(name), new float[module.InFeatures], module.InFeatures, 1), module.InFeatures, rank);
            var b = patch.OverridableInput(TensorData.FromFloat32(BInput(name), new float[module.OutFeatures], 1, module.OutFeatures), rank, module.OutFeatures);
            var down = patch.Node("MatMul", $"{name}/down", [site.Input, a]); // (..., r)
            var up = patch.Node("MatMul", $"{name}/up", [down, b]);           // (..., out)
            var sum = patch.Node("Add", $"{name}/add", [site.Output, up]);
            patch.Rewire(site.Output, sum);
            slots.Add(new SideLoraSlot(name, a, b, module.InFeatures, module.OutFeatures));
        }
        patch.Apply(model.Graph);
        return slots;
    }
}
