using Onnx;

namespace PeftOnnx.Onnx.Graph;

/// <summary>Hands out value and node names that do not clash with any name already in the graph or handed out before.</summary>
public sealed class UniqueNames
{
    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);

    public UniqueNames(GraphProto graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        _taken.UnionWith(graph.Input.Select(v => v.Name));
        _taken.UnionWith(graph.Output.Select(v => v.Name));
        _taken.UnionWith(graph.ValueInfo.Select(v => v.Name));
        _taken.UnionWith(graph.Initializer.Select(t => t.Name));
        foreach (var node in graph.Node)
        {
            _taken.Add(node.Name);
            _taken.UnionWith(node.Output);
        }
    }

    /// <summary><paramref name="wanted"/> if free, else wanted_1, wanted_2, ...</summary>
    public string Make(string wanted)
    {
        ArgumentNullException.ThrowIfNull(wanted);
        var name = wanted;
        for (var i = 1; !_taken.Add(name); i++)
            name = $"{wanted}_{i}";
        return name;
    }
}
