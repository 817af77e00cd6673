using Onnx;
using AttributeType = Onnx.AttributeProto.Types.AttributeType;
using DataType = Onnx.TensorProto.Types.DataType;

namespace PeftOnnx.Onnx.Graph;

/// <summary>
/// The nodes, initializers and inputs one pass adds, named under a prefix, plus the rewiring of existing consumers
/// (value a now read as b). Nothing touches the graph until <see cref="Apply"/>, which adds everything at once and
/// re-sorts the nodes topologically (a patch inserts nodes between existing ones).
/// </summary>
public sealed class GraphPatch(string prefix)
{
    private readonly List<NodeProto> _nodes = [];
    private readonly List<TensorProto> _initializers = [];
    private readonly List<ValueInfoProto> _inputs = [];
    private readonly Dictionary<string, string> _rewire = new(StringComparer.Ordinal);

    public string Prefix { get; } = prefix;

    /// <summary>Adds a node with one output named <c>prefix + name</c>; returns that output.</summary>
    public string Node(string op, string name, IEnumerable<string> inputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = Prefix + name };
        node.Input.AddRange(inputs);
        node.Output.Add(Prefix + name);
        node.Attribute.AddRange(attributes);
        _nodes.Add(node);
        return Prefix + name;
    }

    /// <summary>Adds a node whose output keeps an existing value's name (the node it replaces is removed by the caller).</summary>
    public string NodeTo(string op, string name, IEnumerable<string> inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = Prefix + name };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        _nodes.Add(node);
        return output;
    }

    public string Int64s(string name, params long[] values)
    {
        _initializers.Add(TensorData.FromInt64(Prefix + name, values, values.Length));
        return Prefix + name;
    }

    public string Initializer(TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        _initializers.Add(tensor);
        return tensor.Name;
    }

    /// <summary>
    /// A float32 graph input that also has an initializer default: ONNX Runtime uses the default unless a run feeds the
    /// input (directly or through an active LoRA adapter). <paramref name="dims"/> holds a number or a symbol per axis.
    /// </summary>
    public string OverridableInput(TensorProto defaultValue, params object[] dims)
    {
        ArgumentNullException.ThrowIfNull(defaultValue);
        _initializers.Add(defaultValue);
        _inputs.Add(ValueInfo(defaultValue.Name, DataType.Float, dims));
        return defaultValue.Name;
    }

    public void Input(string name, DataType type, params object[] dims) => _inputs.Add(ValueInfo(name, type, dims));

    /// <summary>Every existing node that reads <paramref name="from"/> reads <paramref name="to"/> instead (the patch's own nodes keep reading <paramref name="from"/>).</summary>
    public void Rewire(string from, string to)
    {
        if (!_rewire.TryAdd(from, to))
            throw new InvalidOperationException($"{Prefix}: value '{from}' is rewired twice ('{_rewire[from]}' and '{to}').");
    }

    public void Apply(GraphProto graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var graphOutputs = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var rewiredOutput = _rewire.Keys.FirstOrDefault(graphOutputs.Contains);
        if (rewiredOutput is not null)
            throw new InvalidDataException($"{Prefix}: value '{rewiredOutput}' is a graph output; the pass cannot insert nodes after it.");
        foreach (var node in graph.Node)
        {
            for (var i = 0; i < node.Input.Count; i++)
            {
                if (_rewire.TryGetValue(node.Input[i], out var to))
                    node.Input[i] = to;
            }
        }
        graph.Node.AddRange(_nodes);
        graph.Initializer.AddRange(_initializers);
        graph.Input.AddRange(_inputs);
        SortTopologically(graph);
    }

    public static AttributeProto IntAttribute(string name, long value) => new() { Name = name, Type = AttributeType.Int, I = value };

    public static AttributeProto IntsAttribute(string name, params long[] values) => new() { Name = name, Type = AttributeType.Ints, Ints = { values } };

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
                _ => throw new ArgumentException($"dimension {dim} of {name} is neither a number nor a symbol.", nameof(dims)),
            });
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }

    /// <summary>Kahn's algorithm, stable: nodes keep their order unless an input forces a later position.</summary>
    private static void SortTopologically(GraphProto graph)
    {
        var nodes = graph.Node.ToList();
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < nodes.Count; i++)
        {
            foreach (var output in nodes[i].Output.Where(o => o.Length > 0))
                producer[output] = i;
        }
        var pending = new int[nodes.Count];
        var dependents = new List<int>[nodes.Count];
        for (var i = 0; i < nodes.Count; i++)
        {
            dependents[i] = [];
        }
        for (var i = 0; i < nodes.Count; i++)
        {
            foreach (var input in nodes[i].Input.Where(v => v.Length > 0).Distinct(StringComparer.Ordinal))
            {
                if (producer.TryGetValue(input, out var p) && p != i)
                {
                    pending[i]++;
                    dependents[p].Add(i);
                }
            }
        }
        var ready = new PriorityQueue<int, int>();
        for (var i = 0; i < nodes.Count; i++)
        {
            if (pending[i] == 0)
                ready.Enqueue(i, i);
        }
        var sorted = new List<NodeProto>(nodes.Count);
        while (ready.TryDequeue(out var i, out _))
        {
            sorted.Add(nodes[i]);
            foreach (var d in dependents[i])
            {
                if (--pending[d] == 0)
                    ready.Enqueue(d, d);
            }
        }
        if (sorted.Count != nodes.Count)
            throw new InvalidDataException($"the graph has a cycle after the rewrite: {nodes.Count - sorted.Count} nodes could not be ordered.");
        graph.Node.Clear();
        graph.Node.AddRange(sorted);
    }
}
