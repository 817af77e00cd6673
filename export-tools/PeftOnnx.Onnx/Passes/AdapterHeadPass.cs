using Onnx;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Onnx.Graph;
using DataType = Onnx.TensorProto.Types.DataType;

namespace PeftOnnx.Onnx.Passes;

/// <summary>
/// Makes the classifier that <see cref="ClassificationHeadPass"/> appended part of each adapter, since every
/// sequence-classification adapter trains its own. Form "side": classifier.weight [labels, hidden] and
/// classifier.bias [labels] become graph inputs with their initializers as defaults (an OrtLoraAdapter overrides them).
/// Form "mixed": the Gemm is replaced by a per-row classifier gathered from stacks:
/// <code>
///   pooled (B, H) ─ Unsqueeze (B, 1, H) ─ MatMul(Transpose(Gather(W_stack [n, labels, H], adapter_index))) (B, 1, labels) ─ Squeeze ─ Add(Gather(bias_stack)) ─ logits
/// </code>
/// </summary>
public static class AdapterHeadPass
{
    public const string WeightName = "classifier.weight";
    public const string BiasName = "classifier.bias";
    private const string Prefix = "adapter_head/";

    public static IReadOnlyList<SideParameterSlot> MakeOverridable(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph;
        var slots = new List<SideParameterSlot>();
        foreach (var name in new[] { WeightName, BiasName })
        {
            var tensor = graph.Initializer.FirstOrDefault(t => t.Name == name)
                ?? throw new InvalidDataException($"the model has no initializer {name}; run the classification head pass first.");
            graph.Input.Add(GraphPatch.ValueInfo(name, DataType.Float, [.. tensor.Dims.Select(d => (object)d)]));
            slots.Add(new SideParameterSlot(name, name, [.. tensor.Dims]));
        }
        return slots;
    }

    public static IReadOnlyList<SideParameterSlot> Stack(ModelProto model, string adapterIndex)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph;
        var gemm = graph.Node.FirstOrDefault(n => n.OpType == "Gemm" && n.Output.Contains(ClassificationHeadPass.LogitsOutput))
            ?? throw new InvalidDataException($"the model has no classifier Gemm producing '{ClassificationHeadPass.LogitsOutput}'.");
        var weight = graph.Initializer.First(t => t.Name == WeightName);
        var bias = graph.Initializer.First(t => t.Name == BiasName);
        var (labels, hidden) = (weight.Dims[0], weight.Dims[1]);

        var patch = new GraphPatch(Prefix);
        var axis1 = patch.Int64s("axis1", 1);
        var w = patch.OverridableInput(TensorData.FromFloat32(WeightName + SideAdapterCheck.StackSuffix, TensorData.ToFloat32(weight), 1, labels, hidden), "adapters", labels, hidden);
        var b = patch.OverridableInput(TensorData.FromFloat32(BiasName + SideAdapterCheck.StackSuffix, TensorData.ToFloat32(bias), 1, labels), "adapters", labels);
        var rowW = patch.Node("Gather", "gather_W", [w, adapterIndex], GraphPatch.IntAttribute("axis", 0)); // (B, labels, H)
        var rowWt = patch.Node("Transpose", "W_t", [rowW], GraphPatch.IntsAttribute("perm", 0, 2, 1));        // (B, H, labels)
        var rowB = patch.Node("Gather", "gather_b", [b, adapterIndex], GraphPatch.IntAttribute("axis", 0)); // (B, labels)
        var x = patch.Node("Unsqueeze", "x3", [gemm.Input[0], axis1]);                             // (B, 1, H)
        var y = patch.Node("MatMul", "matmul", [x, rowWt]);                                         // (B, 1, labels)
        var y2 = patch.Node("Squeeze", "y2", [y, axis1]);                                           // (B, labels)
        patch.NodeTo("Add", "logits", [y2, rowB], ClassificationHeadPass.LogitsOutput);
        graph.Node.Remove(gemm);
        graph.Initializer.Remove(weight);
        graph.Initializer.Remove(bias);
        patch.Apply(graph);
        return [new SideParameterSlot(WeightName, WeightName + SideAdapterCheck.StackSuffix, [labels, hidden]), new SideParameterSlot(BiasName, BiasName + SideAdapterCheck.StackSuffix, [labels])];
    }
}
