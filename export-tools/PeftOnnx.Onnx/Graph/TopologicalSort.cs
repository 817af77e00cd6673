using Onnx;

namespace PeftOnnx.Onnx.Graph;

/// <summary>
/// Reorders a graph's nodes so every node comes after the producers of its inputs, as ONNX requires. Stable: among
/// ready nodes the one earlier in the current list goes first, so passes can append new nodes and sort once.
/// </summary>
public static class TopologicalSort
{
    public static void Apply(GraphProto graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var nodes = graph.Node.ToList();
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
            throw new InvalidDataException($"The graph has a cycle; {nodes.Count - sorted.Count} nodes never become ready, e.g. {string.Join("; ", stuck)}.");
        }
        graph.Node.Clear();
        graph.Node.AddRange(sorted);
    }
}
