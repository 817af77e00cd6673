using Onnx;
using PeftOnnx.Onnx.Modules;

namespace PeftOnnx.Onnx.Graph;

/// <summary>
/// Where a Linear module computes in the graph: its input activation and the value that holds x·W + b (after the
/// bias Add, so MatMul+Add fusions of ONNX Runtime stay intact when a branch is added to it).
/// <code>
///   x ─ MatMul(W) ─ Add(b) ─ output      or      x ─ Gemm(W, b) ─ output
/// </code>
/// </summary>
public sealed record LinearSite(LinearModule Module, NodeProto Node, string Input, string Output)
{
    public static LinearSite Find(GraphIndex index, LinearModule module)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(module);
        var weightValue = module.TransposeNode is null
            ? module.WeightInitializer
            : index.Graph.Node.First(n => n.Name == module.TransposeNode).Output[0];
        var nodes = index.Consumers(weightValue).Where(n => n.OpType is "MatMul" or "Gemm" && n.Input[1] == weightValue).ToList();
        if (nodes.Count != 1)
            throw new InvalidDataException($"{module.Name}: its weight '{weightValue}' feeds {nodes.Count} MatMul/Gemm nodes; a side-graph branch needs exactly one.");
        var node = nodes[0];
        var output = node.Output[0];
        if (node.OpType == "MatMul" && module.BiasInitializer is { } bias)
        {
            var add = index.Consumers(output).FirstOrDefault(n => n.OpType == "Add" && n.Input.Contains(bias))
                ?? throw new InvalidDataException($"{module.Name}: no Add of its bias '{bias}' follows {GraphIndex.Describe(node)}.");
            output = add.Output[0];
        }
        return new LinearSite(module, node, node.Input[0], output);
    }
}
