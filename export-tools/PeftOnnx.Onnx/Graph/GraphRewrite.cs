using Onnx;

namespace PeftOnnx.Onnx.Graph;

/// <summary>
/// The one way to edit a graph, as ONNX Runtime's fusions do it: a pass matches on the unchanged graph
/// (<see cref="Index"/>) and collects its edits here (nodes to remove, to add, to edit; initializers, inputs, outputs,
/// value infos, operator sets); <see cref="Apply"/> then makes them all at once and restores topological order, the
/// one place that does. Nothing in the model changes before <see cref="Apply"/>, so a pass that fails part-way leaves
/// the model as it was.
/// </summary>
public sealed class GraphRewrite(ModelProto model)
{
    private readonly HashSet<NodeProto> _removed = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<NodeProto, List<NodeProto>> _insertAt = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<NodeProto, NodeProto> _edited = new(ReferenceEqualityComparer.Instance);
    private readonly List<NodeProto> _added = [];
    private readonly List<TensorProto> _initializers = [];
    private readonly Dictionary<string, TensorProto> _replacedInitializers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _removedInitializers = new(StringComparer.Ordinal);
    private readonly List<ValueInfoProto> _inputs = [];
    private readonly List<ValueInfoProto> _outputs = [];
    private readonly Dictionary<string, string> _rewire = new(StringComparer.Ordinal);
    private readonly Dictionary<ValueInfoProto, ValueInfoProto> _valueInfos = new(ReferenceEqualityComparer.Instance);
    private readonly List<ValueInfoProto> _addedValueInfos = [];
    private readonly HashSet<string> _forgottenShapes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _opsets = new(StringComparer.Ordinal);
    private bool _replaceOutputs;
    private bool _prune;
    private bool _applied;
    private GraphIndex? _index;
    private UniqueNames? _names;

    public ModelProto Model { get; } = model ?? throw new ArgumentNullException(nameof(model));

    public GraphProto Graph => Model.Graph;

    /// <summary>Producers, consumers and initializers of the graph as it was before this rewrite.</summary>
    public GraphIndex Index => _index ??= new GraphIndex(Graph);

    /// <summary>Names that clash with nothing in the graph or handed out before.</summary>
    public UniqueNames Names => _names ??= new UniqueNames(Graph);

    /// <summary>How many matches <see cref="Replace"/> has taken (fusions number their nodes with it).</summary>
    public int Replaced { get; private set; }

    /// <summary>The ai.onnx operator set the model imports (0 when it declares none).</summary>
    public long Opset => Model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();

    /// <summary>True when <paramref name="node"/> is already removed or replaced (matches must not overlap).</summary>
    public bool IsClaimed(NodeProto node) => _removed.Contains(node);

    /// <summary>Replaces <paramref name="matched"/> and <paramref name="anchor"/> with <paramref name="fused"/>, placed where the anchor was.</summary>
    public void Replace(IEnumerable<NodeProto> matched, NodeProto anchor, params NodeProto[] fused)
    {
        ArgumentNullException.ThrowIfNull(matched);
        ArgumentNullException.ThrowIfNull(anchor);
        foreach (var node in matched)
            _removed.Add(node);
        _removed.Add(anchor);
        if (!_insertAt.TryGetValue(anchor, out var list))
            _insertAt[anchor] = list = [];
        list.AddRange(fused);
        Replaced++;
    }

    public void Remove(NodeProto node) => _removed.Add(node);

    /// <summary>A new node; <see cref="Apply"/> places it after the producers of its inputs.</summary>
    public void Add(NodeProto node)
    {
        ArgumentNullException.ThrowIfNull(node);
        _added.Add(node);
    }

    /// <summary>
    /// A copy of <paramref name="node"/> that takes its place at <see cref="Apply"/> (the same copy on every call):
    /// change its inputs, outputs or attributes; the original stays as it is until then.
    /// </summary>
    public NodeProto Edit(NodeProto node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (!_edited.TryGetValue(node, out var copy))
            _edited[node] = copy = node.Clone();
        return copy;
    }

    /// <summary>Every node already in the graph that reads <paramref name="from"/> reads <paramref name="to"/> instead (added nodes keep reading <paramref name="from"/>).</summary>
    public void Rewire(string from, string to)
    {
        if (!_rewire.TryAdd(from, to))
            throw new InvalidOperationException($"value '{from}' is rewired twice ('{_rewire[from]}' and '{to}').");
    }

    public string AddInitializer(TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        _initializers.Add(tensor);
        return tensor.Name;
    }

    /// <summary>Replaces the initializer of the same name, in its place.</summary>
    public void ReplaceInitializer(TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (Index.Initializer(tensor.Name) is null)
            throw new InvalidOperationException($"the graph has no initializer '{tensor.Name}' to replace.");
        _replacedInitializers[tensor.Name] = tensor;
    }

    public void RemoveInitializer(string name) => _removedInitializers.Add(name);

    public void AddInput(ValueInfoProto input)
    {
        ArgumentNullException.ThrowIfNull(input);
        _inputs.Add(input);
    }

    public void AddOutput(ValueInfoProto output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _outputs.Add(output);
    }

    /// <summary>The graph's outputs become exactly <paramref name="outputs"/> (and those added with <see cref="AddOutput"/>).</summary>
    public void ReplaceOutputs(params ValueInfoProto[] outputs)
    {
        _replaceOutputs = true;
        _outputs.AddRange(outputs);
    }

    public void ReplaceValueInfo(ValueInfoProto old, ValueInfoProto replacement)
    {
        ArgumentNullException.ThrowIfNull(old);
        ArgumentNullException.ThrowIfNull(replacement);
        _valueInfos[old] = replacement;
    }

    /// <summary>Declares the shape of a value a pass adds (for later passes that read shapes, such as the [CLS]-only last layer).</summary>
    public void AddValueInfo(ValueInfoProto info)
    {
        ArgumentNullException.ThrowIfNull(info);
        _addedValueInfos.Add(info);
    }

    /// <summary>Drops the value infos of values whose shape the rewrite changes (ONNX Runtime would trust the stale shape).</summary>
    public void ForgetShapes(IEnumerable<string> values) => _forgottenShapes.UnionWith(values);

    /// <summary>The model imports at least <paramref name="version"/> of <paramref name="domain"/> ("" for ai.onnx).</summary>
    public void RequireOpset(string domain, long version)
    {
        ArgumentNullException.ThrowIfNull(domain);
        _opsets[domain] = Math.Max(version, _opsets.GetValueOrDefault(domain));
    }

    /// <summary>After the edits, remove what no graph output needs any more (<see cref="PruneDeadNodes"/>).</summary>
    public void PruneDeadNodes() => _prune = true;

    /// <summary>Makes every collected edit, restores topological order, prunes if asked. A rewrite with nothing collected leaves the model untouched.</summary>
    public void Apply()
    {
        if (_applied)
            throw new InvalidOperationException("this rewrite was applied already; collect a new one on the changed graph.");
        _applied = true;
        if (IsEmpty)
            return;
        var graph = Graph;
        var graphOutputs = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        if (_rewire.Keys.FirstOrDefault(graphOutputs.Contains) is { } rewiredOutput)
            throw new InvalidDataException($"value '{rewiredOutput}' is a graph output; a pass cannot insert nodes after it.");

        var nodes = new List<NodeProto>(graph.Node.Count + _added.Count);
        foreach (var node in graph.Node)
        {
            if (_insertAt.TryGetValue(node, out var fused))
                nodes.AddRange(fused);
            if (_removed.Contains(node))
                continue;
            var kept = _edited.GetValueOrDefault(node, node);
            for (var i = 0; i < kept.Input.Count; i++)
            {
                if (_rewire.TryGetValue(kept.Input[i], out var to))
                    kept.Input[i] = to;
            }
            nodes.Add(kept);
        }
        nodes.AddRange(_added);
        graph.Node.Clear();
        graph.Node.AddRange(SortTopologically(nodes));

        for (var i = 0; i < graph.Initializer.Count; i++)
        {
            if (_replacedInitializers.TryGetValue(graph.Initializer[i].Name, out var replacement))
                graph.Initializer[i] = replacement;
        }
        foreach (var tensor in graph.Initializer.Where(t => _removedInitializers.Contains(t.Name)).ToList())
            graph.Initializer.Remove(tensor);
        graph.Initializer.AddRange(_initializers);
        graph.Input.AddRange(_inputs);
        if (_replaceOutputs)
            graph.Output.Clear();
        graph.Output.AddRange(_outputs);
        for (var i = 0; i < graph.ValueInfo.Count; i++)
        {
            if (_valueInfos.TryGetValue(graph.ValueInfo[i], out var info))
                graph.ValueInfo[i] = info;
        }
        graph.ValueInfo.AddRange(_addedValueInfos);
        foreach (var info in graph.ValueInfo.Where(v => _forgottenShapes.Contains(v.Name)).ToList())
            graph.ValueInfo.Remove(info);
        foreach (var (domain, version) in _opsets)
            ImportOpset(domain, version);
        if (_prune)
            Prune(graph);
    }

    private bool IsEmpty =>
        _removed.Count == 0 && _insertAt.Count == 0 && _edited.Count == 0 && _added.Count == 0 && _initializers.Count == 0
        && _replacedInitializers.Count == 0 && _removedInitializers.Count == 0 && _inputs.Count == 0 && _outputs.Count == 0
        && !_replaceOutputs && _rewire.Count == 0 && _valueInfos.Count == 0 && _addedValueInfos.Count == 0 && _forgottenShapes.Count == 0 && _opsets.Count == 0 && !_prune;

    private void ImportOpset(string domain, long version)
    {
        var import = Model.OpsetImport.FirstOrDefault(o => o.Domain == domain || (domain.Length == 0 && o.Domain == "ai.onnx"));
        if (import is null)
            Model.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        else if (import.Version < version)
            import.Version = version;
    }

    /// <summary>
    /// Kahn's algorithm, stable: among ready nodes the one earlier in the list goes first, so a list that is already
    /// sorted stays as it is and added nodes land after the producers of their inputs.
    /// </summary>
    private static List<NodeProto> SortTopologically(List<NodeProto> nodes)
    {
        var producerIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < nodes.Count; i++)
        {
            foreach (var output in nodes[i].Output.Where(o => o.Length > 0))
                producerIndex[output] = i;
        }
        var waitingOn = new int[nodes.Count];
        var dependents = Enumerable.Range(0, nodes.Count).Select(_ => new List<int>()).ToArray();
        for (var i = 0; i < nodes.Count; i++)
        {
            foreach (var producer in nodes[i].Input.Where(producerIndex.ContainsKey).Select(v => producerIndex[v]).Distinct())
            {
                if (producer == i)
                    throw new InvalidDataException($"Node {GraphIndex.Describe(nodes[i])} consumes its own output.");
                waitingOn[i]++;
                dependents[producer].Add(i);
            }
        }
        var ready = new PriorityQueue<int, int>();
        for (var i = 0; i < nodes.Count; i++)
        {
            if (waitingOn[i] == 0)
                ready.Enqueue(i, i);
        }
        var sorted = new List<NodeProto>(nodes.Count);
        while (ready.TryDequeue(out var i, out _))
        {
            sorted.Add(nodes[i]);
            foreach (var dependent in dependents[i])
            {
                if (--waitingOn[dependent] == 0)
                    ready.Enqueue(dependent, dependent);
            }
        }
        if (sorted.Count != nodes.Count)
        {
            var stuck = Enumerable.Range(0, nodes.Count).Where(i => waitingOn[i] > 0).Take(5).Select(i => GraphIndex.Describe(nodes[i]));
            throw new InvalidDataException($"The graph has a cycle after the rewrite; {nodes.Count - sorted.Count} nodes never become ready, e.g. {string.Join("; ", stuck)}.");
        }
        return sorted;
    }

    /// <summary>
    /// Removes nodes none of whose outputs is consumed or a graph output (repeatedly: the shape arithmetic and mask
    /// chains a fusion leaves behind), then initializers nothing reads and value infos of values no node makes.
    /// </summary>
    private static void Prune(GraphProto graph)
    {
        var outputs = new HashSet<string>(graph.Output.Select(o => o.Name), StringComparer.Ordinal);
        while (true)
        {
            var used = new HashSet<string>(outputs, StringComparer.Ordinal);
            foreach (var node in graph.Node)
                used.UnionWith(node.Input);
            var dead = graph.Node.Where(n => n.Output.All(o => !used.Contains(o))).ToList();
            if (dead.Count == 0)
                break;
            foreach (var node in dead)
                graph.Node.Remove(node);
        }
        var read = new HashSet<string>(graph.Node.SelectMany(n => n.Input), StringComparer.Ordinal);
        read.UnionWith(outputs);
        foreach (var tensor in graph.Initializer.Where(t => !read.Contains(t.Name)).ToList())
            graph.Initializer.Remove(tensor);
        var produced = new HashSet<string>(graph.Node.SelectMany(n => n.Output), StringComparer.Ordinal);
        foreach (var info in graph.ValueInfo.Where(v => !produced.Contains(v.Name)).ToList())
            graph.ValueInfo.Remove(info);
    }
}
