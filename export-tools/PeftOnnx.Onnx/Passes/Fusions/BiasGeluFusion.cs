using Onnx;
using PeftOnnx.Onnx.Graph;
using static PeftOnnx.Onnx.Graph.OnnxNodes;
using static PeftOnnx.Onnx.Passes.Fusions.FusionPatterns;

namespace PeftOnnx.Onnx.Passes.Fusions;

/// <summary>
/// Fuses the exact (erf) GELU that torch.onnx exports, and the bias of the Linear before it, into com.microsoft
/// BiasGelu (or Gelu when there is no bias):
/// <code>
///   h ─ MatMul(W) ─ Add(b) ─┬─ Div(√2) ─ Erf ─ Add(1) ─┐
///                           └──────────────────────── Mul ─ Mul(0.5) ─ y
/// </code>
/// becomes <c>y = BiasGelu(h·W, b)</c>. Anchored on the Erf.
/// </summary>
public sealed class BiasGeluFusion : IGraphPass
{
    public string Name => "BiasGelu";

    public PassReport Collect(GraphRewrite rewrite)
    {
        ArgumentNullException.ThrowIfNull(rewrite);
        var index = rewrite.Index;
        var unhandled = new List<string>();
        foreach (var erf in index.Graph.Node.Where(n => n.OpType == "Erf").ToList())
        {
            var where = $"GELU at {GraphIndex.Describe(erf)}";
            var div = Parent(index, erf, "Div", 0);
            var addOne = OnlyChild(index, erf.Output[0], "Add");
            var mul = addOne is null ? null : OnlyChild(index, addOne.Output[0], "Mul");
            var half = mul is null ? null : OnlyChild(index, mul.Output[0], "Mul");
            if (div is null || addOne is null || mul is null || half is null)
            {
                unhandled.Add($"{where}: not the x·0.5·(1 + erf(x/√2)) form (Div, Erf, Add, Mul, Mul)");
                continue;
            }
            var x = div.Input[0];
            if (!IsScalar(index, div.Input[1], MathF.Sqrt(2f), 1e-3f) || OtherInput(addOne, erf.Output[0]) is not { } one
                || !IsScalar(index, one, 1f) || OtherInput(mul, addOne.Output[0]) != x
                || OtherInput(half, mul.Output[0]) is not { } halfValue || !IsScalar(index, halfValue, 0.5f))
            {
                unhandled.Add($"{where}: constants are not √2, 1 and 0.5, or the outer Mul does not read the GELU input");
                continue;
            }
            NodeProto[] matched = [div, erf, addOne, mul];
            var inputs = new List<string> { x };
            var opType = "Gelu";
            // BiasGelu adds the Linear's bias inside the activation kernel.
            if (index.Producer(x) is { OpType: "Add" } biasAdd && SplitConstant(index, biasAdd) is { } split
                && index.Initializer(split.Constant) is { Dims.Count: 1 } && index.Producer(split.Other)?.OpType == "MatMul"
                && index.Consumers(x).Count == 2 && !index.GraphOutputs.Contains(x))
            {
                matched = [.. matched, biasAdd];
                inputs = [split.Other, split.Constant];
                opType = "BiasGelu";
            }
            if (matched.Any(rewrite.IsClaimed))
                continue;
            var fused = Node(opType, $"{opType}_{rewrite.Replaced}", "com.microsoft", inputs, [half.Output[0]]);
            rewrite.Replace(matched, half, fused);
        }
        if (rewrite.Replaced > 0)
            rewrite.RequireOpset(TransformerFusion.MicrosoftDomain, 1);
        rewrite.PruneDeadNodes();
        return PassReport.Of(this, rewrite.Replaced, $"fused {rewrite.Replaced}", unhandled);
    }
}
