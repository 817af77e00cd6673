using System.Text.RegularExpressions;
using Onnx;

namespace PeftOnnx.Onnx.Modules;

/// <summary>
/// The Hugging Face module structure of an exported model: every Linear (named, with its weight layout and shapes)
/// and every other parameter kept under its checkpoint name (embeddings, LayerNorm).
/// </summary>
public sealed partial class ModuleMap
{
    private readonly Dictionary<string, LinearModule> _byName;

    private ModuleMap(List<LinearModule> linears, List<NamedParameter> named, List<string> unmapped)
    {
        Linears = linears;
        NamedParameters = named;
        UnmappedInitializers = unmapped;
        _byName = linears.ToDictionary(l => l.Name, StringComparer.Ordinal);
    }

    /// <summary>Linear modules in graph order.</summary>
    public IReadOnlyList<LinearModule> Linears { get; }

    /// <summary>Float parameters outside the Linear modules, under their checkpoint names.</summary>
    public IReadOnlyList<NamedParameter> NamedParameters { get; }

    /// <summary>Float initializers that are neither a Linear's weight or bias nor named like a parameter (e.g. folded constants).</summary>
    public IReadOnlyList<string> UnmappedInitializers { get; }

    /// <summary>Parameters of the Linear modules and the named parameters together.</summary>
    public long ParameterCount => Linears.Sum(l => l.ParameterCount) + NamedParameters.Sum(p => p.ElementCount);

    /// <summary>Number of encoder layers (encoder.layer.N.*), 0 when the names follow another scheme.</summary>
    public int LayerCount => Linears.Select(l => LayerNumber(l.Name)).DefaultIfEmpty(-1).Max() + 1;

    /// <summary>
    /// Builds the map. Throws <see cref="InvalidDataException"/> naming the node for a MatMul/Gemm with a constant weight
    /// in a pattern it does not handle, rather than skipping it.
    /// </summary>
    public static ModuleMap Build(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph ?? throw new InvalidDataException("Module map: the model has no graph.");
        var (linears, named, unmapped) = ModuleMapBuilder.Build(graph);
        return new ModuleMap(linears, named, unmapped);
    }

    public bool TryGet(string name, out LinearModule module) => _byName.TryGetValue(name, out module!);

    /// <summary>The Linear module called <paramref name="name"/>; the error lists what the model has.</summary>
    public LinearModule this[string name] => _byName.TryGetValue(name, out var module)
        ? module
        : throw new KeyNotFoundException($"The model has no Linear module {name}{LayerHint(name)}; its {Linears.Count} Linear modules are {Summary()}.");

    /// <summary>The module kind: the name without its encoder.layer.N. prefix (attention.self.query, pooler.dense).</summary>
    public static string KindOf(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var match = LayerPrefix().Match(name);
        return match.Success ? name[match.Length..] : name;
    }

    /// <summary>"encoder.layer.{0..5}.{attention.self.query, ...}, pooler.dense"</summary>
    public string Summary()
    {
        var layered = Linears.Where(l => LayerNumber(l.Name) >= 0).Select(l => KindOf(l.Name)).Distinct().ToList();
        var parts = new List<string>();
        if (layered.Count > 0)
            parts.Add($"encoder.layer.{{0..{LayerCount - 1}}}.{{{string.Join(", ", layered)}}}");
        parts.AddRange(Linears.Where(l => LayerNumber(l.Name) < 0).Select(l => l.Name));
        return string.Join(", ", parts);
    }

    private string LayerHint(string name)
    {
        var layer = LayerNumber(name);
        return layer >= LayerCount && LayerCount > 0 ? $" (it has {LayerCount} layers: 0..{LayerCount - 1})" : "";
    }

    private static int LayerNumber(string name)
    {
        var match = LayerPrefix().Match(name);
        return match.Success ? int.Parse(match.Groups[1].Value) : -1;
    }

    [GeneratedRegex(@"^encoder\.layer\.(\d+)\.")]
    private static partial Regex LayerPrefix();
}
