using Onnx;
using PeftOnnx.Onnx.Graph;

namespace PeftOnnx.Onnx.Modules;

/// <summary>
/// Names the Linear weights found by <see cref="LinearMatcher"/>. Torch exports often rename MatMul weights (e.g. "927",
/// "onnx::MatMul_1234") but keep the bias name, so a weight W whose MatMul feeds an Add of "X.bias" is module X;
/// a weight still called "X.weight" names itself. Every weight must be named one way or the other, consistently.
/// </summary>
internal static class ModuleMapBuilder
{
    public static (List<LinearModule> Linears, List<NamedParameter> Named, List<string> Unmapped) Build(GraphProto graph)
    {
        var index = new GraphIndex(graph);
        var uses = new Dictionary<string, List<LinearMatcher.LinearUse>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var node in graph.Node)
        {
            if (LinearMatcher.Match(node, index) is not { } use)
                continue;
            if (!uses.TryGetValue(use.Weight.Name, out var list))
            {
                uses[use.Weight.Name] = list = [];
                order.Add(use.Weight.Name);
            }
            list.Add(use);
        }

        var linears = new List<LinearModule>();
        var byName = new Dictionary<string, LinearModule>(StringComparer.Ordinal);
        foreach (var weightName in order)
        {
            var module = Name(uses[weightName]);
            if (byName.TryGetValue(module.Name, out var existing))
            {
                throw new InvalidDataException(
                    $"Module map: weights '{existing.WeightInitializer}' and '{module.WeightInitializer}' both resolve to module {module.Name} (nodes {string.Join(", ", existing.ConsumerNodes)} and {string.Join(", ", module.ConsumerNodes)}).");
            }
            byName[module.Name] = module;
            linears.Add(module);
        }

        var linearTensors = new HashSet<string>(
            linears.SelectMany(l => l.BiasInitializer is null ? [l.WeightInitializer] : new[] { l.WeightInitializer, l.BiasInitializer }),
            StringComparer.Ordinal);
        var named = new List<NamedParameter>();
        var unmapped = new List<string>();
        foreach (var tensor in graph.Initializer.Where(t => IsFloat(t.DataType) && !linearTensors.Contains(t.Name)))
        {
            if (tensor.Name.EndsWith(".weight", StringComparison.Ordinal) || tensor.Name.EndsWith(".bias", StringComparison.Ordinal))
                named.Add(new NamedParameter(tensor.Name, [.. tensor.Dims]));
            else
                unmapped.Add(tensor.Name);
        }
        return (linears, named, unmapped);
    }

    private static LinearModule Name(List<LinearMatcher.LinearUse> uses)
    {
        var first = uses[0];
        var weight = first.Weight;
        var nodes = uses.Select(u => u.Node.Name).ToList();
        if (uses.Any(u => u.Layout != first.Layout))
        {
            throw LinearMatcher.Unhandled(first.Node,
                $"weight '{weight.Name}' is shared by nodes that read it in different layouts ({string.Join(", ", uses.Select(u => $"{u.Node.Name}: {u.Layout}"))})");
        }
        var biases = uses.Where(u => u.Bias is not null).Select(u => u.Bias!.Name).Distinct(StringComparer.Ordinal).ToList();
        if (biases.Count > 1)
            throw LinearMatcher.Unhandled(first.Node, $"weight '{weight.Name}' is shared by nodes with different biases ({string.Join(", ", biases)})");
        var bias = biases.SingleOrDefault();

        var fromWeight = Strip(weight.Name, ".weight");
        var fromBias = bias is null ? null : Strip(bias, ".bias");
        if (fromWeight is not null && fromBias is not null && fromWeight != fromBias)
            throw LinearMatcher.Unhandled(first.Node, $"weight '{weight.Name}' and bias '{bias}' name different modules");
        var name = fromWeight ?? fromBias
            ?? throw LinearMatcher.Unhandled(first.Node,
                $"the module name of weight '{weight.Name}' [{string.Join(", ", weight.Dims)}] cannot be recovered: it is not named '<module>.weight' and its output feeds no Add of an initializer named '<module>.bias'" +
                (bias is null ? "" : $" (the bias found is '{bias}')"));

        var (inFeatures, outFeatures) = first.Layout == WeightLayout.InOut
            ? (weight.Dims[0], weight.Dims[1])
            : (weight.Dims[1], weight.Dims[0]);
        return new LinearModule(name, weight.Name, first.Layout, bias, checked((int)inFeatures), checked((int)outFeatures), nodes, first.Transpose?.Name);
    }

    private static string? Strip(string name, string suffix) =>
        name.EndsWith(suffix, StringComparison.Ordinal) && name.Length > suffix.Length ? name[..^suffix.Length] : null;

    private static bool IsFloat(int dataType) => (TensorProto.Types.DataType)dataType is TensorProto.Types.DataType.Float
        or TensorProto.Types.DataType.Float16 or TensorProto.Types.DataType.Bfloat16 or TensorProto.Types.DataType.Double;
}
