using Onnx;
using AttributeType = Onnx.AttributeProto.Types.AttributeType;
using DataType = Onnx.TensorProto.Types.DataType;

namespace PeftOnnx.Onnx.Graph;

/// <summary>Builders for the protobuf messages every pass writes: nodes, attributes, value infos (written once).</summary>
public static class OnnxNodes
{
    public static NodeProto Node(string opType, string name, string domain, IEnumerable<string> inputs, IEnumerable<string> outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = name, Domain = domain };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        return node;
    }

    /// <summary>output = Cast(input, to).</summary>
    public static NodeProto Cast(string name, string input, string output, int to) =>
        Node("Cast", name, "", [input], [output], IntAttribute("to", to));

    public static AttributeProto IntAttribute(string name, long value) => new() { Name = name, Type = AttributeType.Int, I = value };

    public static AttributeProto IntsAttribute(string name, params long[] values) => new() { Name = name, Type = AttributeType.Ints, Ints = { values } };

    public static AttributeProto FloatAttribute(string name, float value) => new() { Name = name, Type = AttributeType.Float, F = value };

    public static AttributeProto TensorAttribute(string name, TensorProto value) => new() { Name = name, Type = AttributeType.Tensor, T = value };

    /// <summary>A tensor value info; <paramref name="dims"/> holds a number or a symbol per axis.</summary>
    public static ValueInfoProto ValueInfo(string name, DataType type, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
        {
            shape.Dim.Add(dim switch
            {
                string symbol => new TensorShapeProto.Types.Dimension { DimParam = symbol },
                int n => new TensorShapeProto.Types.Dimension { DimValue = n },
                long n => new TensorShapeProto.Types.Dimension { DimValue = n },
                TensorShapeProto.Types.Dimension d => d.Clone(),
                _ => throw new ArgumentException($"dimension {dim} of {name} is neither a number nor a symbol.", nameof(dims)),
            });
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }
}
