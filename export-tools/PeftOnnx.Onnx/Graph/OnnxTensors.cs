using Onnx;

namespace PeftOnnx.Onnx.Graph;

/// <summary>Walks every tensor a model stores: initializers, sparse initializers and tensor attributes, subgraphs included.</summary>
public static class OnnxTensors
{
    public static IEnumerable<TensorProto> All(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.Graph is null ? [] : All(model.Graph);
    }

    public static IEnumerable<TensorProto> All(GraphProto graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        foreach (var tensor in graph.Initializer)
            yield return tensor;
        foreach (var sparse in graph.SparseInitializer)
        {
            if (sparse.Values is not null) yield return sparse.Values;
            if (sparse.Indices is not null) yield return sparse.Indices;
        }
        foreach (var node in graph.Node)
        {
            foreach (var attribute in node.Attribute)
            {
                if (attribute.T is not null) yield return attribute.T;
                foreach (var tensor in attribute.Tensors)
                    yield return tensor;
                var subgraphs = attribute.G is null ? attribute.Graphs : attribute.Graphs.Prepend(attribute.G);
                foreach (var subgraph in subgraphs)
                {
                    foreach (var tensor in All(subgraph))
                        yield return tensor;
                }
            }
        }
    }
}
