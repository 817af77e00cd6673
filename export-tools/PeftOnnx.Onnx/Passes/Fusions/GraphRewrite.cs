using Onnx;

namespace PeftOnnx.Onnx.Passes.Fusions;

/// <summary>
/// The edits of one pass, collected while matching and applied together: matched nodes removed, each fused node
/// inserted where its anchor (the last node of its pattern) stood, so the node list stays topologically sorted.
/// Nothing in the graph changes until <see cref="Apply"/>.
/// </summary>
public sealed class GraphRewrite
{
    private readonly HashSet<NodeProto> _removed = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<NodeProto, List<NodeProto>> _insertAt = new(ReferenceEqualityComparer.Instance);
    private readonly List<NodeProto> _prepended = [];
    private readonly List<TensorProto> _initializers = [];

    /// <summary>True when <paramref name="node"/> already belongs to an accepted match (matches must not overlap).</summary>
    public bool IsClaimed(NodeProto node) => _removed.Contains(node);

    public int Count { get; private set; }

    /// <summary>Replaces <paramref name="matched"/> with <paramref name="fused"/>, placed where <paramref name="anchor"/> was.</summary>
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
        Count++;
    }

    /// <summary>A node that only reads graph inputs or initializers, placed first (e.g. a shared mask cast).</summary>
    public void Prepend(NodeProto node) => _prepended.Add(node);

    public void AddInitializer(TensorProto tensor) => _initializers.Add(tensor);

    public void Apply(GraphProto graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var nodes = new List<NodeProto>(graph.Node.Count + _prepended.Count);
        nodes.AddRange(_prepended);
        foreach (var node in graph.Node)
        {
            if (_insertAt.TryGetValue(node, out var fused))
                nodes.AddRange(fused);
            if (!_removed.Contains(node))
                nodes.Add(node);
        }
        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        graph.Initializer.AddRange(_initializers);
    }

    /// <summary>
    /// Removes nodes none of whose outputs is consumed or a graph output (repeatedly: the shape arithmetic and mask
    /// chains a fusion leaves behind), then initializers nothing reads. Returns the number of nodes removed.
    /// </summary>
    public static int PruneDeadNodes(GraphProto graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var outputs = new HashSet<string>(graph.Output.Select(o => o.Name), StringComparer.Ordinal);
        var removed = 0;
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
            removed += dead.Count;
        }
        var read = new HashSet<string>(graph.Node.SelectMany(n => n.Input), StringComparer.Ordinal);
        read.UnionWith(outputs);
        var unused = graph.Initializer.Where(t => !read.Contains(t.Name)).ToList();
        foreach (var tensor in unused)
            graph.Initializer.Remove(tensor);
        // Value infos of removed values would describe tensors that no longer exist.
        var produced = new HashSet<string>(graph.Node.SelectMany(n => n.Output), StringComparer.Ordinal);
        var stale = graph.ValueInfo.Where(v => !produced.Contains(v.Name)).ToList();
        foreach (var info in stale)
            graph.ValueInfo.Remove(info);
        return removed;
    }
}
