using Onnx;
using PeftOnnx.Onnx.Graph;
using static PeftOnnx.Onnx.Graph.OnnxNodes;
using static PeftOnnx.Onnx.Passes.Fusions.FusionPatterns;

namespace PeftOnnx.Onnx.Passes.Fusions;

/// <summary>
/// Fuses BERT's embeddings into one com.microsoft EmbedLayerNormalization:
/// <code>
///   Gather(word, input_ids) ─┐
///   Gather(type, token_type_ids) ─ Add ─┐
///   Gather(position, position_ids[:, 0:S]) ─ Add ─ LayerNormalization(γ, β) ─ y
/// </code>
/// becomes <c>y = EmbedLayerNormalization(int32 input_ids, int32 token_type_ids, word, position, type, γ, β)</c>,
/// one kernel instead of three gathers, two adds and a layer norm. ONNX Runtime numbers positions 0..S-1 itself, so
/// the position ids must be a slice from 0 of an arange buffer (as BERT exports them); the token-type branch is
/// optional. Runs after <see cref="LayerNormFusion"/>.
/// </summary>
public sealed class EmbedLayerNormFusion : IGraphPass
{
    public string Name => "EmbedLayerNormalization";

    public PassReport Collect(GraphRewrite rewrite)
    {
        ArgumentNullException.ThrowIfNull(rewrite);
        var index = rewrite.Index;
        var unhandled = new List<string>();
        var int32Inputs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var layerNorm in index.Graph.Node.Where(n => n.OpType == "LayerNormalization" && n.Domain.Length == 0).ToList())
        {
            var adds = new List<NodeProto>();
            var gathers = new List<NodeProto>();
            if (!CollectSum(index, layerNorm.Input[0], adds, gathers) || gathers.Count is < 2 or > 3)
                continue; // not an embedding sum: the usual case, nothing to report
            var where = $"embeddings at {GraphIndex.Describe(layerNorm)}";
            var position = gathers.SingleOrDefault(g => IsArangeSlice(index, g.Input[1]));
            var byInput = gathers.Where(g => g != position && IsGraphInput(index, g.Input[1]))
                .OrderByDescending(g => index.Initializer(g.Input[0])!.Dims[0]).ToList();
            if (position is null || byInput.Count != gathers.Count - 1 || layerNorm.Input.Count < 3)
            {
                unhandled.Add($"{where}: not word (+ token type) embeddings of graph inputs plus position embeddings of positions 0..S-1");
                continue;
            }
            if (Ints(layerNorm, "axis") is not (null or [-1]))
            {
                unhandled.Add($"{where}: the layer norm is not over the last axis");
                continue;
            }
            NodeProto[] matched = [.. gathers, .. adds];
            if (matched.Any(rewrite.IsClaimed) || !IsSelfContained(index, [.. matched, layerNorm], matched))
            {
                unhandled.Add($"{where}: an intermediate value is used outside the embeddings");
                continue;
            }
            var (word, type) = (byInput[0], byInput.Count > 1 ? byInput[1] : null);
            var epsilon = layerNorm.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
            string[] inputs =
            [
                Int32(rewrite, int32Inputs, word.Input[1]),
                type is null ? "" : Int32(rewrite, int32Inputs, type.Input[1]),
                word.Input[0],
                position.Input[0],
                type?.Input[0] ?? "",
                layerNorm.Input[1],
                layerNorm.Input[2],
            ];
            var fused = Node("EmbedLayerNormalization", $"EmbedLayerNorm_{rewrite.Replaced}", TransformerFusion.MicrosoftDomain, inputs,
                [layerNorm.Output[0], $"EmbedLayerNorm_{rewrite.Replaced}_mask_index"], FloatAttribute("epsilon", epsilon));
            rewrite.Replace(matched, layerNorm, fused);
        }
        if (rewrite.Replaced > 0)
            rewrite.RequireOpset(TransformerFusion.MicrosoftDomain, 1);
        rewrite.PruneDeadNodes();
        return PassReport.Of(this, rewrite.Replaced, $"fused {rewrite.Replaced}", unhandled);
    }

    /// <summary>Walks an Add tree down to its leaves; true when every leaf is a Gather from a 2-D initializer table.</summary>
    private static bool CollectSum(GraphIndex index, string value, List<NodeProto> adds, List<NodeProto> gathers)
    {
        var producer = index.Producer(value);
        switch (producer?.OpType)
        {
            case "Add" when adds.Count < 2 && producer.Input.Count == 2:
                adds.Add(producer);
                return CollectSum(index, producer.Input[0], adds, gathers) && CollectSum(index, producer.Input[1], adds, gathers);
            case "Gather" when Ints(producer, "axis") is null or [0] && index.Initializer(producer.Input[0]) is { Dims.Count: 2 }:
                gathers.Add(producer);
                return true;
            default:
                return false;
        }
    }

    private static bool IsGraphInput(GraphIndex index, string value) => index.Graph.Input.Any(i => i.Name == value);

    /// <summary>Slice(buffer, [0], ends, [1]) of a [1, P] constant holding 0..P-1: the positions 0..S-1.</summary>
    private static bool IsArangeSlice(GraphIndex index, string value)
    {
        if (index.Producer(value) is not { OpType: "Slice" } slice || slice.Input.Count < 4 || Constant(index, slice.Input[0]) is not { Dims.Count: 2 } buffer)
            return false;
        if (Constant(index, slice.Input[1]) is not { } starts || TensorData.ToInt64(starts) is not [0])
            return false;
        if (Constant(index, slice.Input[3]) is not { } axes || TensorData.ToInt64(axes) is not [1 or -1])
            return false;
        if (slice.Input.Count > 4 && (Constant(index, slice.Input[4]) is not { } steps || TensorData.ToInt64(steps) is not [1]))
            return false;
        var positions = TensorData.ToInt64(buffer);
        return buffer.Dims[0] == 1 && positions.Select((p, i) => p == i).All(same => same);
    }

    /// <summary>An int32 copy of an int64 graph input (EmbedLayerNormalization takes int32 ids), made once per input.</summary>
    private static string Int32(GraphRewrite rewrite, Dictionary<string, string> made, string input)
    {
        if (made.TryGetValue(input, out var existing))
            return existing;
        var name = $"{input}_int32";
        rewrite.Add(Node("Cast", $"{input}_to_int32", "", [input], [name], IntAttribute("to", (long)TensorProto.Types.DataType.Int32)));
        made[input] = name;
        return name;
    }
}
