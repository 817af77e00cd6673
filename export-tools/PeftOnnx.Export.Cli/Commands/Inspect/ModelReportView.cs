using Spectre.Console;

namespace PeftOnnx.Export.Cli.Commands.Inspect;

/// <summary>Renders a <see cref="ModelReport"/> as Spectre.Console tables.</summary>
public static class ModelReportView
{
    public static void Write(IAnsiConsole console, ModelReport report)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(report);
        console.MarkupLine($"[bold]{Markup.Escape(report.File)}[/]: IR {report.IrVersion}, opsets {Markup.Escape(string.Join(", ", report.Opsets.Select(o => $"{o.Domain} {o.Version}")))}, producer {Markup.Escape(report.Producer)}");

        var io = new Table().Title("Inputs and outputs").AddColumns("", "name", "type", "shape");
        foreach (var (direction, values) in new[] { ("input", report.Inputs), ("output", report.Outputs) })
        {
            foreach (var value in values)
                io.AddRow(direction, Markup.Escape(value.Name), value.ElementType, Markup.Escape($"[{string.Join(", ", value.Shape)}]"));
        }
        console.Write(io);

        if (report.ModuleMapError is not null)
            console.MarkupLine($"[red]Module map failed:[/] {Markup.Escape(report.ModuleMapError)}");
        var modules = new Table().Title($"Linear modules ({report.LinearModules.Count})")
            .AddColumns("module", "weight initializer", "layout", "in", "out", "bias", "nodes");
        foreach (var linear in report.LinearModules)
        {
            modules.AddRow(Markup.Escape(linear.Name), Markup.Escape(linear.Weight), Markup.Escape(linear.Layout),
                linear.InFeatures.ToString(), linear.OutFeatures.ToString(), linear.Bias is null ? "-" : "yes", Markup.Escape(string.Join(", ", linear.Nodes)));
        }
        console.Write(modules);

        var kinds = new Table().Title("Parameters by module kind").AddColumns("kind", "modules", "parameters");
        foreach (var kind in report.ParametersByKind)
            kinds.AddRow(Markup.Escape(kind.Kind), kind.Modules.ToString(), kind.Parameters.ToString("N0"));
        kinds.AddRow("[bold]total[/]", report.ParametersByKind.Sum(k => k.Modules).ToString(), $"[bold]{report.ParameterCount:N0}[/]");
        console.Write(kinds);
        if (report.UnmappedInitializers.Count > 0)
            console.MarkupLine($"Float initializers outside any module: {Markup.Escape(string.Join(", ", report.UnmappedInitializers))}");

        var ops = new Table().Title($"Operators ({report.Ops.Sum(o => o.Count)} nodes)").AddColumns("op", "count");
        foreach (var op in report.Ops)
            ops.AddRow(Markup.Escape(op.Op), op.Count.ToString());
        console.Write(ops);
    }
}
