using Onnx;
using PeftOnnx.Onnx.Graph;
using static PeftOnnx.Onnx.Graph.OnnxNodes;
using static PeftOnnx.Onnx.Passes.Fusions.FusionPatterns;

namespace PeftOnnx.Onnx.Passes.Fusions;

/// <summary>
/// Fuses the decomposed layer norm that torch.onnx exports into one LayerNormalization (ai.onnx, opset 17):
/// <code>
///   x ─┬─ ReduceMean(axes=-1) ─┐
///      └────────────────────── Sub ─┬─ Pow(2) ─ ReduceMean(axes=-1) ─ Add(eps) ─ Sqrt ─┐
///                                   └────────────────────────────────────────────────── Div ─ Mul(γ) ─ Add(β) ─ y
/// </code>
/// becomes <c>y = LayerNormalization(x, γ, β, axis=-1, epsilon=eps)</c>. Anchored on the Div.
/// </summary>
public sealed class LayerNormFusion : IGraphPass
{
    public string Name => "LayerNormalization";

    public PassReport Collect(GraphRewrite rewrite)
    {
        ArgumentNullException.ThrowIfNull(rewrite);
        var index = rewrite.Index;
        var unhandled = new List<string>();
        foreach (var div in index.Graph.Node.Where(n => n.OpType == "Div").ToList())
        {
            var sub = Parent(index, div, "Sub", 0);
            var sqrtPath = MatchParentPath(index, div, ["Sqrt", "Add", "ReduceMean", "Pow"], [1, 0, AnyInput, 0]);
            if (sub is null || sqrtPath is null)
                continue;
            // From here on the Div looks like a layer norm: anything that stops the fusion is reported.
            var (sqrt, addEps, varianceMean, pow) = (sqrtPath[0], sqrtPath[1], sqrtPath[2], sqrtPath[3]);
            var where = $"layer norm at {GraphIndex.Describe(div)}";
            var mean = Parent(index, sub, "ReduceMean", 1);
            var x = sub.Input[0];
            if (mean is null || mean.Input[0] != x || pow.Input[0] != sub.Output[0] || !IsScalar(index, pow.Input[1], 2f))
            {
                unhandled.Add($"{where}: the mean/variance branches do not read the same input");
                continue;
            }
            if (!IsLastAxis(mean) || !IsLastAxis(varianceMean))
            {
                unhandled.Add($"{where}: ReduceMean is not over the last axis only");
                continue;
            }
            var epsilonInput = OtherInput(addEps, varianceMean.Output[0]);
            var epsilon = epsilonInput is null ? null : Scalar(index, epsilonInput);
            var mul = OnlyChild(index, div.Output[0], "Mul");
            var scale = mul is null ? null : SplitConstant(index, mul);
            var add = mul is null ? null : OnlyChild(index, mul.Output[0], "Add");
            var bias = add is null ? null : SplitConstant(index, add);
            if (epsilon is null || scale is null || bias is null)
            {
                unhandled.Add($"{where}: epsilon, γ (Mul by an initializer) or β (Add of an initializer) is missing");
                continue;
            }
            NodeProto[] inner = [mean, sub, pow, varianceMean, addEps, sqrt, div, mul!];
            if (inner.Any(rewrite.IsClaimed) || !IsSelfContained(index, [.. inner, add!], inner))
            {
                unhandled.Add($"{where}: an intermediate value is used outside the layer norm");
                continue;
            }
            var fused = Node("LayerNormalization", $"LayerNorm_{rewrite.Replaced}", "", [x, scale.Value.Constant, bias.Value.Constant], [add!.Output[0]],
                IntAttribute("axis", -1), FloatAttribute("epsilon", epsilon.Value));
            rewrite.Replace(inner, add!, fused);
        }
        if (rewrite.Replaced > 0)
            rewrite.RequireOpset("", 17);
        rewrite.PruneDeadNodes();
        return PassReport.Of(this, rewrite.Replaced, $"fused {rewrite.Replaced}", unhandled);
    }

    private static bool IsLastAxis(NodeProto reduceMean) =>
        Ints(reduceMean, "axes") is [-1] && (Ints(reduceMean, "keepdims") is null or [1]);
}
