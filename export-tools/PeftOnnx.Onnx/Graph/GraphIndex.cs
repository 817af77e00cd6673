using Onnx;

namespace PeftOnnx.Onnx.Graph;

/// <summary>
/// Lookups over one graph, written once for the module map and every pass: which node produces a value, which nodes
/// consume it, and which values are initializers. Built from a snapshot; rebuild it after editing the graph.
/// </summary>
public sealed class GraphIndex
{
    private static readonly IReadOnlyList<NodeProto> NoNodes = [];
    private readonly Dictionary<string, NodeProto> _producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<NodeProto>> _consumers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorProto> _initializers = new(StringComparer.Ordinal);

    public GraphIndex(GraphProto graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        Graph = graph;
        foreach (var tensor in graph.Initializer)
            _initializers[tensor.Name] = tensor;
        foreach (var node in graph.Node)
        {
            foreach (var output in node.Output.Where(o => o.Length > 0))
                _producers[output] = node;
            foreach (var input in node.Input.Where(i => i.Length > 0).Distinct(StringComparer.Ordinal))
            {
                if (!_consumers.TryGetValue(input, out var list))
                    _consumers[input] = list = [];
                list.Add(node);
            }
        }
        GraphOutputs = new HashSet<string>(graph.Output.Select(o => o.Name), StringComparer.Ordinal);
    }

    public GraphProto Graph { get; }

    /// <summary>Names of the graph's outputs.</summary>
    public IReadOnlySet<string> GraphOutputs { get; }

    public IReadOnlyDictionary<string, TensorProto> Initializers => _initializers;

    public NodeProto? Producer(string value) => _producers.GetValueOrDefault(value);

    public IReadOnlyList<NodeProto> Consumers(string value) => _consumers.TryGetValue(value, out var list) ? list : NoNodes;

    public TensorProto? Initializer(string value) => _initializers.GetValueOrDefault(value);

    /// <summary>The node producing input <paramref name="input"/> of <paramref name="node"/> if it is a <paramref name="opType"/>.</summary>
    public NodeProto? Parent(NodeProto node, int input, string opType)
    {
        ArgumentNullException.ThrowIfNull(node);
        return input < node.Input.Count && Producer(node.Input[input]) is { } parent && parent.OpType == opType ? parent : null;
    }

    /// <summary>True when the value is an initializer or the output of a Constant node.</summary>
    public bool IsConstant(string value) => _initializers.ContainsKey(value) || Producer(value) is { OpType: "Constant" };

    /// <summary>A node's display name: its name, or op type and first output when exporters left the name empty.</summary>
    public static string Describe(NodeProto node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var name = node.Name.Length > 0 ? node.Name : $"(unnamed, output {node.Output.FirstOrDefault()})";
        return $"{node.OpType} {name} (inputs: {string.Join(", ", node.Input)})";
    }
}
