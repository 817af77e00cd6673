using Onnx;
using PeftOnnx.Onnx.Graph;

namespace PeftOnnx.Onnx.Passes.Fusions;

/// <summary>Matching helpers shared by every fusion pass (ONNX Runtime's fusion_base/onnx_model helpers, written once).</summary>
public static class FusionPatterns
{
    /// <summary>Matches any input of a node in <see cref="MatchParentPath"/>.</summary>
    public const int AnyInput = -1;

    /// <summary>
    /// Walks up from <paramref name="node"/>: step i goes to the producer of input <c>inputIndices[i]</c> (or of any
    /// input, <see cref="AnyInput"/>) and requires op type <c>opTypes[i]</c>. Returns the producers in order, or null
    /// when the path does not exist.
    /// </summary>
    public static NodeProto[]? MatchParentPath(GraphIndex index, NodeProto node, string[] opTypes, int[] inputIndices)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(opTypes);
        ArgumentNullException.ThrowIfNull(inputIndices);
        if (opTypes.Length != inputIndices.Length)
            throw new ArgumentException($"Length of opTypes ({opTypes.Length}) must match inputIndices ({inputIndices.Length}).", nameof(inputIndices));
        var path = new NodeProto[opTypes.Length];
        var current = node;
        for (var step = 0; step < opTypes.Length; step++)
        {
            var parent = Parent(index, current, opTypes[step], inputIndices[step]);
            if (parent is null)
                return null;
            path[step] = parent;
            current = parent;
        }
        return path;
    }

    /// <summary>The producer of input <paramref name="inputIndex"/> (or of the first input that matches) when it has op type <paramref name="opType"/>.</summary>
    public static NodeProto? Parent(GraphIndex index, NodeProto node, string opType, int inputIndex = AnyInput)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(node);
        if (inputIndex != AnyInput)
        {
            if (inputIndex >= node.Input.Count)
                return null;
            var producer = index.Producer(node.Input[inputIndex]);
            return producer?.OpType == opType ? producer : null;
        }
        foreach (var input in node.Input)
        {
            var producer = index.Producer(input);
            if (producer?.OpType == opType)
                return producer;
        }
        return null;
    }

    /// <summary>The single consumer of <paramref name="value"/> with op type <paramref name="opType"/>, or null.</summary>
    public static NodeProto? OnlyChild(GraphIndex index, string value, string opType)
    {
        ArgumentNullException.ThrowIfNull(index);
        var consumers = index.Consumers(value);
        return consumers.Count == 1 && consumers[0].OpType == opType && !index.GraphOutputs.Contains(value) ? consumers[0] : null;
    }

    /// <summary>The first consumer of <paramref name="value"/> with op type <paramref name="opType"/> (others may read it too), or null.</summary>
    public static NodeProto? Child(GraphIndex index, string value, string opType)
    {
        ArgumentNullException.ThrowIfNull(index);
        return index.Consumers(value).FirstOrDefault(c => c.OpType == opType);
    }

    /// <summary>
    /// The constant behind a value: an initializer or the output of a Constant node (attribute value), else null.
    /// </summary>
    public static TensorProto? Constant(GraphIndex index, string value)
    {
        ArgumentNullException.ThrowIfNull(index);
        if (index.Initializer(value) is { } initializer)
            return initializer;
        var producer = index.Producer(value);
        if (producer?.OpType != "Constant")
            return null;
        return producer.Attribute.FirstOrDefault(a => a.Name == "value")?.T;
    }

    /// <summary>The value of a one-element constant, or null when <paramref name="value"/> is not one.</summary>
    public static float? Scalar(GraphIndex index, string value)
    {
        var tensor = Constant(index, value);
        if (tensor is null || TensorData.ElementCount(tensor.Dims) != 1)
            return null;
        return TensorData.ToFloat32(tensor)[0];
    }

    /// <summary>True when <paramref name="value"/> is a one-element constant within <paramref name="tolerance"/> of <paramref name="expected"/>.</summary>
    public static bool IsScalar(GraphIndex index, string value, float expected, float tolerance = 1e-4f) =>
        Scalar(index, value) is { } actual && Math.Abs(actual - expected) <= tolerance;

    /// <summary>The input of a two-input node that is not <paramref name="known"/>; null when neither input is.</summary>
    public static string? OtherInput(NodeProto node, string known)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (node.Input.Count != 2)
            return null;
        if (node.Input[0] == known)
            return node.Input[1];
        return node.Input[1] == known ? node.Input[0] : null;
    }

    /// <summary>The input of a two-input node that is an initializer, and the other one; null when there is none.</summary>
    public static (string Constant, string Other)? SplitConstant(GraphIndex index, NodeProto node)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(node);
        if (node.Input.Count != 2)
            return null;
        if (index.Initializer(node.Input[1]) is not null)
            return (node.Input[1], node.Input[0]);
        if (index.Initializer(node.Input[0]) is not null)
            return (node.Input[0], node.Input[1]);
        return null;
    }

    /// <summary>An int or ints attribute, or null when the node does not carry it.</summary>
    public static long[]? Ints(NodeProto node, string name)
    {
        ArgumentNullException.ThrowIfNull(node);
        var attribute = node.Attribute.FirstOrDefault(a => a.Name == name);
        if (attribute is null)
            return null;
        return attribute.Ints.Count > 0 ? [.. attribute.Ints] : [attribute.I];
    }

    /// <summary>True when none of <paramref name="inner"/>'s outputs is used outside the matched nodes or by the graph's outputs.</summary>
    public static bool IsSelfContained(GraphIndex index, IReadOnlyCollection<NodeProto> matched, IEnumerable<NodeProto> inner)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(matched);
        ArgumentNullException.ThrowIfNull(inner);
        foreach (var node in inner)
        {
            foreach (var output in node.Output)
            {
                if (index.GraphOutputs.Contains(output))
                    return false;
                if (index.Consumers(output).Any(c => !matched.Contains(c)))
                    return false;
            }
        }
        return true;
    }
}
