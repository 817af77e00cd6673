using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace PeftOnnx.Onnx.Graph;

/// <summary>
/// The element type of every value in a graph, from graph inputs, initializers and per-op rules (torch exports carry
/// little value_info, and shape inference is not available in .NET). An op without a rule fails loudly: a pass that
/// changes precision must not guess.
/// </summary>
public static class ElementTypeInference
{
    private static readonly HashSet<string> SameAsFirstInput = new(StringComparer.Ordinal)
    {
        "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Reciprocal", "Erf", "Tanh", "Relu", "Sigmoid", "Neg", "Abs", "Exp", "Log",
        "Sin", "Cos", "Floor", "Ceil", "Round", "Sign", "Softplus", "LeakyRelu", "Elu", "Gelu", "HardSigmoid", "FastGelu", "BiasGelu",
        "MatMul", "Gemm", "Attention", "MultiHeadAttention", "Softmax", "LogSoftmax", "LayerNormalization", "SkipLayerNormalization", "SimplifiedLayerNormalization",
        "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2", "ReduceSumSquare",
        "Reshape", "Transpose", "Unsqueeze", "Squeeze", "Slice", "Concat", "Expand", "Identity", "Split", "Flatten", "Tile",
        "Gather", "GatherElements", "GatherND", "ScatterND", "ScatterElements", "Clip", "Max", "Min", "Sum", "Mean", "Dropout",
        "Pad", "Range", "CumSum", "Einsum", "Trilu", "Resize", "Mod", "TopK",
        // com.microsoft fusions (ORT contrib ops): output 0 has the activations' type.
        "Attention", "MultiHeadAttention",
    };

    private static readonly HashSet<string> Boolean = new(StringComparer.Ordinal)
    {
        "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or", "Xor", "IsNaN", "IsInf",
    };

    private static readonly HashSet<string> Int64 = new(StringComparer.Ordinal) { "Shape", "Size", "ArgMax", "ArgMin", "NonZero" };

    /// <summary>Value name to ONNX data_type (the int of <see cref="DataType"/>).</summary>
    public static Dictionary<string, int> Infer(GraphProto graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var types = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var input in graph.Input.Where(i => i.Type?.TensorType is not null))
            types[input.Name] = input.Type.TensorType.ElemType;
        foreach (var tensor in graph.Initializer)
            types[tensor.Name] = tensor.DataType;
        foreach (var node in graph.Node)
        {
            if (node.Attribute.Any(a => a.G is not null || a.Graphs.Count > 0))
                throw new NotSupportedException($"Element types: control flow with subgraphs is not handled ({GraphIndex.Describe(node)}).");
            for (var i = 0; i < node.Output.Count; i++)
            {
                if (node.Output[i].Length > 0)
                    types[node.Output[i]] = OutputType(node, i, types);
            }
        }
        return types;
    }

    private static int OutputType(NodeProto node, int output, Dictionary<string, int> types)
    {
        int Input(int index) => index < node.Input.Count && types.TryGetValue(node.Input[index], out var type)
            ? type
            : throw new InvalidDataException($"Element types: input {index} ('{(index < node.Input.Count ? node.Input[index] : "")}') of {GraphIndex.Describe(node)} has no known type; is the graph sorted?");

        if (node.Domain is not ("" or "ai.onnx" or "com.microsoft"))
            throw Unknown(node);
        switch (node.OpType)
        {
            case "Dropout" when output == 1:
                return (int)DataType.Bool;
            case "TopK" when output == 1:
                return (int)DataType.Int64;
            case "SkipLayerNormalization" when output == 3:
                return Input(0); // input + skip + bias
            case "LayerNormalization" or "SkipLayerNormalization" when output > 0:
                return (int)DataType.Float; // mean / inv_std_dev, stash_type float
            case "EmbedLayerNormalization":
                return output == 1 ? (int)DataType.Int32 : Input(2); // mask_index, else the word embedding's type
            case "Cast":
                return (int)Attribute(node, "to")!.I;
            case "CastLike" or "Where":
                return Input(1);
            case "Constant":
                return ConstantType(node);
            case "ConstantOfShape":
                return Attribute(node, "value")?.T?.DataType ?? (int)DataType.Float;
            case "QuantizeLinear":
                return node.Input.Count > 2 && node.Input[2].Length > 0 ? Input(2) : (int)DataType.Uint8;
            case "DynamicQuantizeLinear":
                return output == 1 ? (int)DataType.Float : (int)DataType.Uint8;
            case "MatMulInteger":
                return (int)DataType.Int32;
            case "DynamicQuantizeMatMul" or "MatMulIntegerToFloat":
                return (int)DataType.Float;
        }
        if (Boolean.Contains(node.OpType))
            return (int)DataType.Bool;
        if (Int64.Contains(node.OpType))
            return (int)DataType.Int64;
        if (node.OpType == "DequantizeLinear")
            return Input(1); // the scale's type
        if (SameAsFirstInput.Contains(node.OpType))
            return Input(0);
        throw Unknown(node);
    }

    private static int ConstantType(NodeProto node)
    {
        foreach (var attribute in node.Attribute)
        {
            switch (attribute.Name)
            {
                case "value": return attribute.T.DataType;
                case "value_float" or "value_floats": return (int)DataType.Float;
                case "value_int" or "value_ints": return (int)DataType.Int64;
                case "value_string" or "value_strings": return (int)DataType.String;
            }
        }
        throw new InvalidDataException($"Element types: {GraphIndex.Describe(node)} has no value attribute.");
    }

    public static AttributeProto? Attribute(NodeProto node, string name)
    {
        ArgumentNullException.ThrowIfNull(node);
        return node.Attribute.FirstOrDefault(a => a.Name == name);
    }

    private static NotSupportedException Unknown(NodeProto node) =>
        new($"Element types: no rule for op {(node.Domain.Length > 0 ? node.Domain + ":" : "")}{node.OpType} ({GraphIndex.Describe(node)}); add one to ElementTypeInference before converting this model.");
}
