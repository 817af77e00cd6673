using Onnx;
using PeftOnnx.Onnx;
using PeftOnnx.Onnx.Graph;

namespace PeftOnnx.Onnx.Tests;

/// <summary>Builds small hand-made graphs for pattern tests.</summary>
internal static class TestGraphs
{
    public static ModelProto Model(GraphProto graph, long opset = 17)
    {
        var model = new ModelProto { IrVersion = 8, Graph = graph, ProducerName = "PeftOnnx.Onnx.Tests" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return model;
    }

    /// <summary>y = x · w with a 2x2 weight: the smallest valid model.</summary>
    public static ModelProto TinyMatMul()
    {
        var graph = new GraphProto { Name = "tiny" };
        graph.Initializer.Add(TensorData.FromFloat32("w", [1, 2, 3, 4], 2, 2));
        graph.Node.Add(Node("MatMul", "mm", ["x", "w"], ["y"]));
        graph.Input.Add(FloatValue("x", 1, 2));
        graph.Output.Add(FloatValue("y", 1, 2));
        return Model(graph);
    }

    /// <summary>A node in the default domain (<see cref="OnnxNodes.Node"/> with the domain left out).</summary>
    public static NodeProto Node(string op, string name, string[] inputs, string[] outputs, params AttributeProto[] attributes) =>
        OnnxNodes.Node(op, name, "", inputs, outputs, attributes);

    /// <summary>A FLOAT tensor value; a negative dim becomes a symbolic dimension.</summary>
    public static ValueInfoProto FloatValue(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d >= 0 ? new TensorShapeProto.Types.Dimension { DimValue = d } : new TensorShapeProto.Types.Dimension { DimParam = $"d{-d}" });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    /// <summary>Deterministic values in [-1, 1).</summary>
    public static float[] Random(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1))];
    }
}
