using Onnx;
using PeftOnnx.Onnx.Graph;
using static PeftOnnx.Onnx.Graph.OnnxNodes;
using static PeftOnnx.Onnx.Passes.Fusions.FusionPatterns;

namespace PeftOnnx.Onnx.Passes.Fusions;

/// <summary>
/// Fuses a residual connection and its layer norm (run after <see cref="LayerNormFusion"/>) into com.microsoft
/// SkipLayerNormalization, absorbing the dense layer's bias when it is added just before:
/// <code>
///   h ─ MatMul(W) ─ Add(b) ─┐
///   residual ───────────── Add ─ LayerNormalization(γ, β) ─ y
/// </code>
/// becomes <c>y = SkipLayerNormalization(h·W, residual, γ, β, b)</c>. Only residuals that come out of another
/// layer norm are fused, so both operands are (batch, sequence, hidden): the embedding sum, whose position term is
/// broadcast from (1, sequence, hidden), stays a plain LayerNormalization.
/// </summary>
public sealed class SkipLayerNormFusion : IGraphPass
{
    public string Name => "SkipLayerNormalization";

    public PassReport Collect(GraphRewrite rewrite)
    {
        ArgumentNullException.ThrowIfNull(rewrite);
        var index = rewrite.Index;
        var unhandled = new List<string>();
        foreach (var layerNorm in index.Graph.Node.Where(n => n.OpType == "LayerNormalization" && n.Domain.Length == 0).ToList())
        {
            var add = Parent(index, layerNorm, "Add", 0);
            if (add is null || add.Input.Count != 2)
                continue;
            var residualIndex = Array.FindIndex([.. add.Input], i => IsLayerNormOutput(index, i));
            if (residualIndex < 0)
                continue;
            var where = $"residual {GraphIndex.Describe(add)}";
            if (index.Consumers(add.Output[0]).Count != 1 || index.GraphOutputs.Contains(add.Output[0]))
            {
                unhandled.Add($"{where}: the residual sum is used outside the layer norm");
                continue;
            }
            var residual = add.Input[residualIndex];
            var input = add.Input[1 - residualIndex];
            var matched = new List<NodeProto> { add };
            string? bias = null;
            // Absorb "MatMul + bias" so SkipLayerNormalization adds the bias in the same pass over memory.
            if (index.Producer(input) is { OpType: "Add" } biasAdd && SplitConstant(index, biasAdd) is { } split
                && index.Initializer(split.Constant) is { Dims.Count: 1 } && index.Producer(split.Other)?.OpType == "MatMul"
                && index.Consumers(biasAdd.Output[0]).Count == 1 && !rewrite.IsClaimed(biasAdd))
            {
                matched.Add(biasAdd);
                bias = split.Constant;
                input = split.Other;
            }
            if (matched.Any(rewrite.IsClaimed))
                continue;
            var epsilon = layerNorm.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
            List<string> inputs = [input, residual, layerNorm.Input[1], layerNorm.Input[2]];
            if (bias is not null)
                inputs.Add(bias);
            var fused = Node("SkipLayerNormalization", $"SkipLayerNorm_{rewrite.Replaced}", "com.microsoft", inputs, [layerNorm.Output[0]],
                FloatAttribute("epsilon", epsilon));
            rewrite.Replace(matched, layerNorm, fused);
        }
        if (rewrite.Replaced > 0)
            rewrite.RequireOpset(TransformerFusion.MicrosoftDomain, 1);
        return PassReport.Of(this, rewrite.Replaced, $"fused {rewrite.Replaced}", unhandled);
    }

    private static bool IsLayerNormOutput(GraphIndex index, string value) =>
        index.Producer(value) is { OpType: "LayerNormalization" or "SkipLayerNormalization" } producer && producer.Output[0] == value;
}
