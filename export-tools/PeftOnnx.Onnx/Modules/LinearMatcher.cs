using Onnx;
using PeftOnnx.Onnx.Graph;

namespace PeftOnnx.Onnx.Modules;

/// <summary>
/// Finds the weight, layout and bias of every MatMul/Gemm that applies a constant 2-D weight. Names come later
/// (<see cref="ModuleMapBuilder"/>): here each use of a weight is one <see cref="LinearUse"/>.
/// </summary>
internal static class LinearMatcher
{
    /// <summary>One node applying one weight initializer.</summary>
    internal sealed record LinearUse(NodeProto Node, TensorProto Weight, WeightLayout Layout, TensorProto? Bias, NodeProto? Transpose);

    /// <summary>Null for a MatMul of two activations (attention scores), which is no module.</summary>
    public static LinearUse? Match(NodeProto node, GraphIndex index) => node.OpType switch
    {
        "MatMul" => MatchMatMul(node, index),
        "Gemm" => MatchGemm(node, index),
        _ => null,
    };

    //   x ──> MatMul(x, W[in,out]) ──> Add(bias[out]) ──>          W an initializer: layout InOut
    //   x ──> MatMul(x, Transpose(W[out,in])) ──> Add(bias) ──>    W behind Transpose perm=[1,0]: layout OutIn
    //   a ──> MatMul(a, b) ──>                                      both activations (Q·Kᵀ, P·V): not a module
    //   a ──> MatMul(a, C[heads, ·, ·]) ──>                          a per-head product (ClsOnlyLastLayerPass): not a module
    private static LinearUse? MatchMatMul(NodeProto node, GraphIndex index)
    {
        if (node.Input.Count != 2)
            throw Unhandled(node, $"MatMul has {node.Input.Count} inputs, expected 2");
        if (index.Initializer(node.Input[0]) is { } left)
            throw Unhandled(node, $"the constant '{left.Name}' [{string.Join(", ", left.Dims)}] is the left operand (W·x); torch Linear exports put the weight on the right");
        if (index.Initializer(node.Input[1]) is { Dims.Count: 3 })
            return null;
        if (index.Initializer(node.Input[1]) is { } weight)
        {
            RequireMatrix(node, weight);
            return new LinearUse(node, weight, WeightLayout.InOut, FindBiasAdd(node, index, weight.Dims[1]), null);
        }
        if (index.Producer(node.Input[1]) is { OpType: "Transpose" } transpose && index.Initializer(transpose.Input[0]) is { } transposed)
        {
            RequireMatrix(node, transposed);
            var perm = transpose.Attribute.FirstOrDefault(a => a.Name == "perm")?.Ints;
            if (perm is not null && !(perm.Count == 2 && perm[0] == 1 && perm[1] == 0))
                throw Unhandled(node, $"its weight '{transposed.Name}' goes through Transpose {transpose.Name} with perm [{string.Join(", ", perm)}], expected [1, 0]");
            return new LinearUse(node, transposed, WeightLayout.OutIn, FindBiasAdd(node, index, transposed.Dims[0]), transpose);
        }
        return null;
    }

    //   x ──> Gemm(x, B, C; transA=0, alpha=1, beta=1) ──>   transB=1: B is [out,in] (OutIn); transB=0: B is [in,out] (InOut)
    private static LinearUse MatchGemm(NodeProto node, GraphIndex index)
    {
        if (Int(node, "transA", 0) != 0)
            throw Unhandled(node, "Gemm with transA=1 transposes the activations; torch Linear exports never do");
        if (Float(node, "alpha", 1f) != 1f || Float(node, "beta", 1f) != 1f)
            throw Unhandled(node, $"Gemm with alpha={Float(node, "alpha", 1f)}, beta={Float(node, "beta", 1f)} scales the Linear; expected 1 and 1");
        var weight = index.Initializer(node.Input[1])
            ?? throw Unhandled(node, $"Gemm's B input '{node.Input[1]}' is not an initializer");
        RequireMatrix(node, weight);
        var layout = Int(node, "transB", 0) == 1 ? WeightLayout.OutIn : WeightLayout.InOut;
        var outFeatures = layout == WeightLayout.OutIn ? weight.Dims[0] : weight.Dims[1];
        TensorProto? bias = null;
        if (node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            bias = index.Initializer(node.Input[2])
                ?? throw Unhandled(node, $"Gemm's C input '{node.Input[2]}' is not an initializer, so it is no Linear bias");
            RequireBias(node, bias, outFeatures);
        }
        return new LinearUse(node, weight, layout, bias ?? FindBiasAdd(node, index, outFeatures), null);
    }

    /// <summary>The bias of a MatMul-based Linear is a separate Add of a 1-D initializer [out] (either operand order).</summary>
    private static TensorProto? FindBiasAdd(NodeProto node, GraphIndex index, long outFeatures)
    {
        foreach (var add in index.Consumers(node.Output[0]).Where(n => n.OpType == "Add"))
        {
            var other = add.Input[0] == node.Output[0] ? add.Input[1] : add.Input[0];
            if (index.Initializer(other) is { Dims.Count: 1 } bias && bias.Dims[0] == outFeatures)
                return bias;
        }
        return null;
    }

    private static void RequireMatrix(NodeProto node, TensorProto weight)
    {
        if (weight.Dims.Count != 2)
            throw Unhandled(node, $"its constant weight '{weight.Name}' has shape [{string.Join(", ", weight.Dims)}]; only 2-D weights are Linear modules");
    }

    private static void RequireBias(NodeProto node, TensorProto bias, long outFeatures)
    {
        if (bias.Dims.Count != 1 || bias.Dims[0] != outFeatures)
            throw Unhandled(node, $"its bias '{bias.Name}' has shape [{string.Join(", ", bias.Dims)}], expected [{outFeatures}]");
    }

    private static long Int(NodeProto node, string name, long fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.I : fallback;

    private static float Float(NodeProto node, string name, float fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.F : fallback;

    internal static InvalidDataException Unhandled(NodeProto node, string why) =>
        new($"Module map: unhandled pattern at {GraphIndex.Describe(node)}: {why}.");
}
