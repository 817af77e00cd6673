using Onnx;
using PeftOnnx.Onnx.Graph;

namespace PeftOnnx.Onnx.Passes.Patterns;

/// <summary>
/// LayerNorm as torch exports it below opset 17 (no LayerNormalization op). The statistics part overflows or
/// underflows in fp16 (Pow of outliers beyond 65504, eps 1e-12 rounds to 0), so precision passes keep it in fp32.
/// </summary>
public static class DecomposedLayerNorm
{
    //   x ──> ReduceMean ──> mean
    //   x, mean ──> Sub ──> d
    //   d ──> Pow(d, 2) ──> ReduceMean ──> Add(·, eps) ──> Sqrt ──> std
    //   d, std ──> Div ──> normalized  (──> Mul(gamma) ──> Add(beta), not part of the match)
    /// <summary>The statistic nodes (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div) of every LayerNorm, ending at its Div.</summary>
    public static IReadOnlyList<IReadOnlyList<NodeProto>> FindAll(GraphIndex index)
    {
        ArgumentNullException.ThrowIfNull(index);
        var matches = new List<IReadOnlyList<NodeProto>>();
        foreach (var div in index.Graph.Node.Where(n => n.OpType == "Div"))
        {
            if (Match(index, div) is { } match)
                matches.Add(match);
        }
        return matches;
    }

    private static List<NodeProto>? Match(GraphIndex index, NodeProto div)
    {
        var sqrt = index.Parent(div, 1, "Sqrt");
        var addEps = sqrt is null ? null : index.Parent(sqrt, 0, "Add");
        if (addEps is null)
            return null;
        var varianceInput = index.IsConstant(addEps.Input[1]) ? 0 : index.IsConstant(addEps.Input[0]) ? 1 : -1;
        var variance = varianceInput < 0 ? null : index.Parent(addEps, varianceInput, "ReduceMean");
        var pow = variance is null ? null : index.Parent(variance, 0, "Pow");
        var sub = pow is null ? null : index.Parent(pow, 0, "Sub");
        if (sub is null || pow!.Input[0] != div.Input[0] || !index.IsConstant(pow.Input[1]))
            return null;
        var mean = index.Parent(sub, 1, "ReduceMean");
        if (mean is null || mean.Input[0] != sub.Input[0])
            return null;
        return [mean, sub, pow, variance!, addEps, sqrt!, div];
    }
}
