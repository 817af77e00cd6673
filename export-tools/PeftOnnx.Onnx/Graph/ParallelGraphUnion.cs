using System.Security.Cryptography;
using Google.Protobuf;
using Onnx;

namespace PeftOnnx.Onnx.Graph;

/// <summary>
/// N task models of one base -> one model that computes every task's outputs in one run. A node is kept once when it
/// computes the same thing from the same values (same op, domain and attributes, inputs that are the same graph input,
/// the same already-kept node's output, or initializers equal byte for byte), so the base pass is shared up to each
/// task's first adapted node; from there each task runs its own branch on the shared hidden state. This is AdapterHub's
/// Parallel block (the batch is replicated at the first adapter layer) without the copy: the branches read the
/// shared tensor directly. Each task's outputs are renamed "&lt;task&gt;/&lt;output&gt;".
/// </summary>
public static class ParallelGraphUnion
{
    /// <summary>Separates a task name from its output name in the union's outputs.</summary>
    public const char OutputSeparator = '/';

    public static ParallelUnion Build(IReadOnlyList<(string Task, ModelProto Model)> tasks)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        if (tasks.Count < 2)
            throw new ArgumentException($"a parallel model needs at least two tasks, got {tasks.Count}.", nameof(tasks));
        var first = tasks[0].Model;
        var union = new ModelProto
        {
            IrVersion = first.IrVersion,
            ProducerName = first.ProducerName,
            ProducerVersion = first.ProducerVersion,
            Graph = new GraphProto { Name = first.Graph.Name },
        };
        union.OpsetImport.AddRange(first.OpsetImport.Select(o => o.Clone()));
        union.Graph.Input.AddRange(first.Graph.Input.Select(i => i.Clone()));

        var taken = new HashSet<string>(first.Graph.Input.Select(i => i.Name), StringComparer.Ordinal);
        // The renamed outputs are reserved first, so no task's own values take them.
        foreach (var (task, model) in tasks)
        {
            foreach (var output in model.Graph.Output)
            {
                if (!taken.Add($"{task}{OutputSeparator}{output.Name}"))
                    throw new ArgumentException($"task {task}: output name '{task}{OutputSeparator}{output.Name}' is taken twice; task names must be distinct.", nameof(tasks));
            }
        }
        var initializers = new Dictionary<string, string>(StringComparer.Ordinal); // content -> union name
        var nodes = new Dictionary<string, int>(StringComparer.Ordinal); // node key -> index in union.Graph.Node
        var users = new List<HashSet<int>>(); // per union node: the tasks that compute it
        var used = new List<(int Node, string Name)>[tasks.Count];
        var renamed = new List<NodeProto>(); // the output Identity nodes, appended after every computed node

        for (var t = 0; t < tasks.Count; t++)
        {
            var (task, model) = tasks[t];
            RequireSameFrame(tasks[0], tasks[t]);
            used[t] = [];
            var valueOf = new Dictionary<string, string>(StringComparer.Ordinal) { [""] = "" };
            foreach (var input in model.Graph.Input)
                valueOf[input.Name] = input.Name;

            foreach (var tensor in model.Graph.Initializer)
            {
                var content = ContentKey(tensor);
                if (!initializers.TryGetValue(content, out var name))
                {
                    name = Claim(taken, tensor.Name, task);
                    var copy = tensor.Clone();
                    copy.Name = name;
                    union.Graph.Initializer.Add(copy);
                    initializers[content] = name;
                }
                valueOf[tensor.Name] = name;
            }

            foreach (var node in model.Graph.Node)
            {
                var inputs = node.Input.Select(i => valueOf.TryGetValue(i, out var v)
                    ? v
                    : throw new InvalidDataException($"task {task}: node '{node.Name}' ({node.OpType}) reads '{i}' before any node writes it; the graph is not in topological order.")).ToArray();
                var key = NodeKey(node, inputs, task);
                if (!nodes.TryGetValue(key, out var index))
                {
                    string[] outputs = [.. node.Output.Select(o => o.Length == 0 ? "" : Claim(taken, o, task))];
                    var copy = node.Clone();
                    copy.Name = Claim(taken, node.Name.Length == 0 ? node.OpType : node.Name, task);
                    copy.Input.Clear();
                    copy.Input.AddRange(inputs);
                    copy.Output.Clear();
                    copy.Output.AddRange(outputs);
                    index = union.Graph.Node.Count;
                    union.Graph.Node.Add(copy);
                    nodes[key] = index;
                    users.Add([]);
                }
                users[index].Add(t);
                used[t].Add((index, node.Name));
                for (var o = 0; o < node.Output.Count; o++)
                    valueOf[node.Output[o]] = union.Graph.Node[index].Output[o];
            }

            // Identity per output: two tasks may end on one shared value (identical adapters), and graph outputs need their own names.
            foreach (var output in model.Graph.Output)
            {
                var name = $"{task}{OutputSeparator}{output.Name}";
                renamed.Add(OnnxNodes.Node("Identity", Claim(taken, name + "/Identity", task), "", [valueOf[output.Name]], [name]));
                var info = output.Clone();
                info.Name = name;
                union.Graph.Output.Add(info);
            }
        }

        union.Graph.Node.AddRange(renamed);
        var branches = tasks.Select((task, t) =>
        {
            var own = used[t].Where(u => users[u.Node].Count == 1).ToList();
            return new ParallelTaskBranch(task.Task, task.Model.Graph.Node.Count, own.Count, own.Count == 0 ? null : own[0].Name);
        }).ToList();
        return new ParallelUnion(union, branches, users.Count(u => u.Count == tasks.Count));
    }

    /// <summary>Every task reads the same inputs with the same opsets: they are exports of one base.</summary>
    private static void RequireSameFrame((string Task, ModelProto Model) first, (string Task, ModelProto Model) other)
    {
        var a = string.Join(", ", first.Model.Graph.Input.Select(i => i.ToString()));
        var b = string.Join(", ", other.Model.Graph.Input.Select(i => i.ToString()));
        if (a != b)
            throw new InvalidDataException($"task {other.Task} has inputs {Names(other.Model.Graph.Input)}, task {first.Task} has {Names(first.Model.Graph.Input)} (or their types differ); all tasks must be exports of one base model.");
        var opsA = string.Join(", ", first.Model.OpsetImport.Select(o => $"{o.Domain}:{o.Version}").Order(StringComparer.Ordinal));
        var opsB = string.Join(", ", other.Model.OpsetImport.Select(o => $"{o.Domain}:{o.Version}").Order(StringComparer.Ordinal));
        if (opsA != opsB)
            throw new InvalidDataException($"task {other.Task} imports opsets [{opsB}], task {first.Task} [{opsA}]; export all tasks with one tool version and precision.");
    }

    private static string Names(IEnumerable<ValueInfoProto> values) => "[" + string.Join(", ", values.Select(v => v.Name)) + "]";

    /// <summary>The first task keeps its names; a later task's own values and nodes get its name as prefix where the name is taken.</summary>
    private static string Claim(HashSet<string> taken, string wanted, string task)
    {
        if (taken.Add(wanted))
            return wanted;
        var name = $"{task}{OutputSeparator}{wanted}";
        for (var i = 1; !taken.Add(name); i++)
            name = $"{task}{OutputSeparator}{wanted}_{i}";
        return name;
    }

    /// <summary>The tensor without its name, hashed: equal keys mean equal type, shape and values.</summary>
    private static string ContentKey(TensorProto tensor)
    {
        var copy = tensor.Clone();
        copy.Name = "";
        copy.DocString = "";
        return Convert.ToHexString(SHA256.HashData(copy.ToByteArray()));
    }

    /// <summary>Op, domain, attributes (sorted by name) and the union's input names: equal keys compute equal outputs.</summary>
    private static string NodeKey(NodeProto node, string[] inputs, string task)
    {
        var attributes = node.Attribute.OrderBy(a => a.Name, StringComparer.Ordinal).Select(a =>
        {
            if (a.G is not null || a.Graphs.Count > 0)
                throw new NotSupportedException($"task {task}: node '{node.Name}' ({node.OpType}) has a subgraph attribute '{a.Name}'; parallel bundles combine encoder graphs without control flow.");
            var copy = a.Clone();
            copy.DocString = "";
            return Convert.ToHexString(SHA256.HashData(copy.ToByteArray()));
        });
        return $"{node.Domain}|{node.OpType}|{node.Output.Count}|{string.Join(',', attributes)}|{string.Join('\u0001', inputs)}";
    }
}

/// <summary>The combined model, what each task computes on its own, and how many nodes every task shares.</summary>
public sealed record ParallelUnion(ModelProto Model, IReadOnlyList<ParallelTaskBranch> Tasks, int SharedNodes)
{
    public override string ToString() =>
        $"parallel graph: {SharedNodes} nodes shared by all {Tasks.Count} tasks; " +
        string.Join("; ", Tasks.Select(t => $"{t.Task}: {t.OwnNodes} of {t.Nodes} nodes its own" + (t.FirstOwnNode is null ? "" : $", from '{t.FirstOwnNode}'")));
}

/// <summary>One task's graph: its node count, the nodes the union keeps for it alone, and the first of them (where its branch starts).</summary>
public sealed record ParallelTaskBranch(string Task, int Nodes, int OwnNodes, string? FirstOwnNode);
