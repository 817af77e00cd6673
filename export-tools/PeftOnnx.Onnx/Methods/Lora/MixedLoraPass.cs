using PeftOnnx.Onnx.Passes;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Onnx.Graph;
using PeftOnnx.Onnx.Modules;
using static PeftOnnx.Onnx.Graph.OnnxNodes;
using DataType = Onnx.TensorProto.Types.DataType;

namespace PeftOnnx.Onnx.Methods.Lora;

/// <summary>
/// Mixed-adapter batches in plain ONNX (the gather-then-batched-MatMul idea of Punica's BGMV and S-LoRA): all adapters
/// are stacked on a leading axis, A_stack [n, in, r] and B_stack [n, r, out] (slot 0 all zeros = no adapter, ranks
/// zero-padded to a common r, which changes nothing), and the int64 input <c>adapter_index</c> [batch] picks each
/// row's adapter.
/// <code>
///   x (B, S, in) ─ MatMul(W) ─ Add(b) ─────────────────────────────────────────── Add ─ y
///   A_stack ─ Gather(adapter_index) (B, in, r) ─┐                                 │
///   x ─────────────────────────────── MatMul ─ (B, S, r) ─ MatMul ─ (B, S, out) ─┘
///   B_stack ─ Gather(adapter_index) (B, r, out) ─────────────┘
/// </code>
/// A 2-D input (the pooler's Gemm on h[:, 0]) is unsqueezed to (B, 1, in) and squeezed back.
/// </summary>
public sealed class MixedLoraPass : IGraphPass
{
    public const string AdapterIndexInput = "adapter_index";
    private const string Prefix = "lora_mixed/";
    private readonly ModuleMap _map;

    /// <param name="modules">The Linear modules that get a branch.</param>
    /// <param name="map">The base model's modules.</param>
    /// <param name="baseModelName">For error messages.</param>
    public MixedLoraPass(IReadOnlyList<string> modules, ModuleMap map, string baseModelName)
    {
        ArgumentNullException.ThrowIfNull(modules);
        ArgumentNullException.ThrowIfNull(map);
        _map = map;
        Slots = [.. modules.Select(name =>
        {
            var module = map.TryGet(name, out var m)
                ? m
                : throw new InvalidDataException($"the mixed side graph should carry a LoRA branch at {name}, which {baseModelName} does not have; its Linear modules are {map.Summary()}.");
            return new SideLoraSlot(name, LoraSidePass.AInput(name) + SideAdapterCheck.StackSuffix, LoraSidePass.BInput(name) + SideAdapterCheck.StackSuffix, module.InFeatures, module.OutFeatures);
        })];
    }

    public string Name => "lora-mixed";

    /// <summary>The stacked adapter inputs the graph gets, one A and B stack per module.</summary>
    public IReadOnlyList<SideLoraSlot> Slots { get; }

    public PassReport Collect(GraphRewrite rewrite)
    {
        ArgumentNullException.ThrowIfNull(rewrite);
        var nodes = new PrefixedNodes(rewrite, Prefix);
        if (!rewrite.Graph.Input.Any(i => i.Name == AdapterIndexInput)) // another method of a mixed bundle may have added it
            rewrite.AddInput(ValueInfo(AdapterIndexInput, DataType.Int64, "batch"));
        var axis1 = nodes.Int64s("axis1", 1);
        foreach (var slot in Slots)
        {
            var (name, i, o) = (slot.Module, slot.InFeatures, slot.OutFeatures);
            var site = LinearSite.Find(rewrite.Index, _map[name]);
            var a = nodes.OverridableInput(TensorData.FromFloat32(slot.AInput, new float[i], 1, i, 1), "adapters", i, "lora_r");
            var b = nodes.OverridableInput(TensorData.FromFloat32(slot.BInput, new float[o], 1, 1, o), "adapters", "lora_r", o);
            var rowA = nodes.Node("Gather", $"{name}/gather_A", [a, AdapterIndexInput], IntAttribute("axis", 0)); // (B, in, r)
            var rowB = nodes.Node("Gather", $"{name}/gather_B", [b, AdapterIndexInput], IntAttribute("axis", 0)); // (B, r, out)
            var twoD = site.Node.OpType == "Gemm";
            var x = twoD ? nodes.Node("Unsqueeze", $"{name}/x3", [site.Input, axis1]) : site.Input; // (B, 1, in) for a Gemm's (B, in)
            var down = nodes.Node("MatMul", $"{name}/down", [x, rowA]);  // (B, S, r)
            var up = nodes.Node("MatMul", $"{name}/up", [down, rowB]);   // (B, S, out)
            if (twoD)
                up = nodes.Node("Squeeze", $"{name}/y2", [up, axis1]);   // (B, out)
            var sum = nodes.Node("Add", $"{name}/add", [site.Output, up]);
            rewrite.Rewire(site.Output, sum);
        }
        return PassReport.Of(this, Slots.Count, $"mixed-batch LoRA branches at {Slots.Count} modules");
    }
}
