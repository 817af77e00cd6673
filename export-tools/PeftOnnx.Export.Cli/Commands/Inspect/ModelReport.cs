using Onnx;
using PeftOnnx.Onnx.Modules;

namespace PeftOnnx.Export.Cli.Commands.Inspect;

/// <summary>What <c>peftonnx-export inspect</c> reports about a model (also its --json form, snake_case).</summary>
public sealed record ModelReport(
    string File,
    long IrVersion,
    string Producer,
    IReadOnlyList<OpsetReport> Opsets,
    IReadOnlyList<ValueReport> Inputs,
    IReadOnlyList<ValueReport> Outputs,
    long ParameterCount,
    IReadOnlyList<KindReport> ParametersByKind,
    IReadOnlyList<LinearReport> LinearModules,
    IReadOnlyList<string> UnmappedInitializers,
    string? ModuleMapError,
    IReadOnlyList<OpCount> Ops)
{
    public static ModelReport Build(string file, ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        ModuleMap? map = null;
        string? error = null;
        try
        {
            map = ModuleMap.Build(model);
        }
        catch (InvalidDataException e)
        {
            error = e.Message;
        }

        var kinds = map is null
            ? []
            : map.Linears.Select(l => (Module: l.Name, Count: l.ParameterCount))
                .Concat(map.NamedParameters.Select(p => (Module: ModuleOf(p.Key), Count: p.ElementCount)))
                .GroupBy(k => ModuleMap.KindOf(k.Module))
                .Select(g => new KindReport(g.Key, g.Select(k => k.Module).Distinct().Count(), g.Sum(k => k.Count)))
                .ToList();
        var ops = model.Graph.Node
            .GroupBy(n => n.Domain is "" or "ai.onnx" ? n.OpType : $"{n.Domain}:{n.OpType}")
            .Select(g => new OpCount(g.Key, g.Count()))
            .OrderByDescending(o => o.Count).ThenBy(o => o.Op, StringComparer.Ordinal)
            .ToList();
        return new ModelReport(
            file,
            model.IrVersion,
            $"{model.ProducerName} {model.ProducerVersion}".Trim(),
            [.. model.OpsetImport.Select(o => new OpsetReport(o.Domain.Length == 0 ? "ai.onnx" : o.Domain, o.Version))],
            [.. model.Graph.Input.Where(i => !IsInitializer(model, i.Name)).Select(ValueReport.From)],
            [.. model.Graph.Output.Select(ValueReport.From)],
            map?.ParameterCount ?? 0,
            kinds,
            map is null ? [] : [.. map.Linears.Select(LinearReport.From)],
            map?.UnmappedInitializers ?? [],
            error,
            ops);
    }

    /// <summary>encoder.layer.0.output.LayerNorm.weight -> encoder.layer.0.output.LayerNorm</summary>
    private static string ModuleOf(string key)
    {
        var dot = key.LastIndexOf('.');
        return dot > 0 ? key[..dot] : key;
    }

    /// <summary>Old exports list initializers among the graph inputs too; those are not inputs a caller feeds.</summary>
    private static bool IsInitializer(ModelProto model, string name) => model.Graph.Initializer.Any(t => t.Name == name);
}

public sealed record OpsetReport(string Domain, long Version);

public sealed record KindReport(string Kind, int Modules, long Parameters);

public sealed record OpCount(string Op, int Count);

/// <summary>A graph input or output: element type and dims (numbers, or the symbolic names such as "batch").</summary>
public sealed record ValueReport(string Name, string ElementType, IReadOnlyList<string> Shape)
{
    public static ValueReport From(ValueInfoProto value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var tensor = value.Type?.TensorType;
        if (tensor is null)
            return new ValueReport(value.Name, value.Type?.ValueCase.ToString() ?? "unknown", []);
        var dims = tensor.Shape?.Dim.Select(d => d.HasDimValue ? d.DimValue.ToString() : d.HasDimParam ? d.DimParam : "?").ToList() ?? [];
        return new ValueReport(value.Name, PeftOnnx.Onnx.TensorElementTypes.Name(tensor.ElemType), dims);
    }
}

public sealed record LinearReport(string Name, string Weight, string Layout, string? Bias, int InFeatures, int OutFeatures, IReadOnlyList<string> Nodes)
{
    public static LinearReport From(LinearModule module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return new LinearReport(module.Name, module.WeightInitializer, module.Layout == WeightLayout.InOut ? "[in,out]" : "[out,in]",
            module.BiasInitializer, module.InFeatures, module.OutFeatures, module.ConsumerNodes);
    }
}
