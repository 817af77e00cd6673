using Onnx;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Onnx.Graph;
using PeftOnnx.Onnx.Modules;
using DataType = Onnx.TensorProto.Types.DataType;

namespace PeftOnnx.Onnx.Passes;

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
public sealed class MixedLoraPass(IReadOnlyList<string> modules)
{
    public const string AdapterIndexInput = "adapter_index";
    private const string Prefix = "lora_mixed/";

    public IReadOnlyList<SideLoraSlot> Apply(ModelProto model, ModuleMap map, string baseModelName)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(map);
        var index = new GraphIndex(model.Graph);
        var patch = new GraphPatch(Prefix);
        patch.Input(AdapterIndexInput, DataType.Int64, "batch");
        var axis1 = patch.Int64s("axis1", 1);
        var slots = new List<SideLoraSlot>();
        foreach (var name in modules)
        {
            var module = map.TryGet(name, out var m)
                ? m
                : throw new InvalidDataException($"the mixed side graph should carry a LoRA branch at {name}, which {baseModelName} does not have; its Linear modules are {map.Summary()}.");
            var site = LinearSite.Find(index, module);
            var (i, o) = (module.InFeatures, module.OutFeatures);
            var a = patch.OverridableInput(TensorData.FromFloat32(LoraSidePass.AInput(name) + SideAdapterCheck.StackSuffix, new float[i], 1, i, 1), "adapters", i, "lora_r");
            var b = patch.OverridableInput(TensorData.FromFloat32(LoraSidePass.BInput(name) + SideAdapterCheck.StackSuffix, new float[o], 1, 1, o), "adapters", "lora_r", o);
            var rowA = patch.Node("Gather", $"{name}/gather_A", [a, AdapterIndexInput], GraphPatch.IntAttribute("axis", 0)); // (B, in, r)
            var rowB = patch.Node("Gather", $"{name}/gather_B", [b, AdapterIndexInput], GraphPatch.IntAttribute("axis", 0)); // (B, r, out)
            var twoD = site.Node.OpType == "Gemm";
            var x = twoD ? patch.Node("Unsqueeze", $"{name}/x3", [site.Input, axis1]) : site.Input; // (B, 1, in) for a Gemm's (B, in)
            var down = patch.Node("MatMul", $"{name}/down", [x, rowA]);  // (B, S, r)
            var up = patch.Node("MatMul", $"{name}/up", [down, rowB]);   // (B, S, out)
            if (twoD)
                up = patch.Node("Squeeze", $"{name}/y2", [up, axis1]);   // (B, out)
            var sum = patch.Node("Add", $"{name}/add", [site.Output, up]);
            patch.Rewire(site.Output, sum);
            slots.Add(new SideLoraSlot(name, a, b, i, o));
        }
        patch.Apply(model.Graph);
        return slots;
    }
}
