using System.CommandLine;
using PeftOnnx.Core.Adapters;
using PeftOnnx.Onnx.Export;
using Spectre.Console;

namespace PeftOnnx.Export.Cli.Commands.Export;

/// <summary>
/// The side-graph options of `peftonnx-export export`: --mode side|mixed writes a base bundle with adapter inputs and
/// one .onnx_adapter per adapter (--adapter plus every --extra-adapter) instead of merging. Without --mode, an adapter
/// that cannot be folded into the weights gets --mode side. --mode parallel takes the same adapters as NAME=FOLDER tasks
/// and writes one bundle that scores every task in one run (<see cref="ParallelBundleExporter"/>).
/// </summary>
internal sealed class SideExportOptions
{
    private readonly Option<string> _mode = new("--mode") { Description = "merged (fold the adapter into the weights), side (adapters as ONNX Runtime LoRA adapters, one per run) mixed (rows of different adapters in one run) or parallel (every adapter a task with its own head, all scored in one run; NAME=FOLDER). Default: merged for an adapter that can be folded into the weights, side for one that cannot.", DefaultValueFactory = _ => "merged" };
    private readonly Option<string[]> _extra = new("--extra-adapter") { Description = "More adapter folders for a side bundle, or NAME=FOLDER tasks for --mode parallel (repeatable).", AllowMultipleArgumentsPerToken = true };
    private readonly Option<string[]> _targets = new("--targets") { Description = "LoRA side graphs: extra modules to give a branch (e.g. key dense), beyond those the adapters use.", AllowMultipleArgumentsPerToken = true };
    private readonly Option<int?> _maxRank = new("--max-rank") { Description = "LoRA side graphs: highest rank an adapter may have (default: max(64, the adapters' rank))." };

    public static SideExportOptions Create()
    {
        var options = new SideExportOptions();
        options._mode.AcceptOnlyFromAmong("merged", "side", "mixed", ParallelBundleExporter.Mode);
        return options;
    }

    public void AddTo(Command command)
    {
        command.Options.Add(_mode);
        command.Options.Add(_extra);
        command.Options.Add(_targets);
        command.Options.Add(_maxRank);
    }

    /// <summary>
    /// Whether to write a side bundle: --mode as given; without it, when the adapter's method cannot be merged into the
    /// weights (said on <paramref name="stdout"/>). A folder without adapter_config.json (a fine-tuned model) merges.
    /// </summary>
    public bool Requested(ParseResult parseResult, string adapterDirectory, TextWriter stdout)
    {
        if (parseResult.GetResult(_mode) is { Implicit: false })
            return parseResult.GetValue(_mode) != "merged";
        var configPath = Path.Combine(adapterDirectory, PeftAdapterConfig.FileName);
        if (!File.Exists(configPath))
            return false;
        var method = AdapterMethods.Of(PeftAdapterConfig.Load(configPath));
        if (method.Mergeable)
            return false;
        stdout.WriteLine($"{method.PeftType} adapters cannot be merged into the base weights; exporting a side-graph bundle (--mode side).");
        return true;
    }

    public bool ParallelRequested(ParseResult parseResult) => parseResult.GetValue(_mode) == ParallelBundleExporter.Mode;

    /// <summary>
    /// --mode parallel: --adapter and each --extra-adapter are tasks, "NAME=FOLDER" (or a folder, named after it); the
    /// <paramref name="template"/> carries the export settings all tasks share.
    /// </summary>
    public int RunParallel(ParseResult parseResult, BundleExportOptions template, IAnsiConsole stderr)
    {
        if (template.Labels is not null)
            throw new ArgumentException("--labels/--labels-file name one adapter's labels; a parallel bundle takes each task's labels from its adapter's training.json.");
        if (parseResult.GetValue(_targets) is { Length: > 0 } || parseResult.GetValue(_maxRank) is not null)
            throw new ArgumentException("--targets and --max-rank shape side graphs; a parallel bundle merges each task's adapter into its own branch.");
        var tasks = new[] { template.AdapterDirectory }.Concat(parseResult.GetValue(_extra) ?? []).Select(ParseTask).ToList();
        var result = new ParallelBundleExporter(new Progress(line => stderr.MarkupLineInterpolated($"[grey]{line}[/]")))
            .Export(new ParallelBundleOptions(template, tasks));
        ExportCommand.WriteWarnings(result.Warnings, stderr);
        parseResult.InvocationConfiguration.Output.WriteLine(
            $"{result.Directory}: parallel bundle, {result.Manifest.Tasks!.Count} tasks ({string.Join(", ", result.Manifest.Tasks.Select(t => $"{t.Name}: {t.Labels.Count} labels"))}), {result.Union.SharedNodes} nodes shared, {result.Manifest.Precision}");
        return 0;
    }

    /// <summary>"sections=runs/sections" -> (sections, runs/sections); a bare folder is named after its last part.</summary>
    private static ParallelTask ParseTask(string text)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        return equals > 0
            ? new ParallelTask(text[..equals], text[(equals + 1)..])
            : new ParallelTask(Path.GetFileName(Path.TrimEndingDirectorySeparator(text)), text);
    }

    public int Run(ParseResult parseResult, string baseModel, string adapter, string output, IReadOnlyList<string>? labels, string? name, bool force, bool clsOnlyLastLayer, bool allowBaseMismatch, IAnsiConsole stderr)
    {
        var result = new SideBundleExporter(new Progress(line => stderr.MarkupLineInterpolated($"[grey]{line}[/]"))).Export(new SideBundleOptions
        {
            BaseDirectory = baseModel,
            AdapterDirectories = [adapter, .. parseResult.GetValue(_extra) ?? []],
            OutputDirectory = output,
            Form = parseResult.GetValue(_mode) == "mixed" ? "mixed" : "side",
            ExtraTargets = parseResult.GetValue(_targets) ?? [],
            MaxRank = parseResult.GetValue(_maxRank),
            Labels = labels,
            Name = name,
            Force = force,
            ClsOnlyLastLayer = clsOnlyLastLayer,
            AllowBaseMismatch = allowBaseMismatch,
        });
        ExportCommand.WriteWarnings(result.Warnings, stderr);
        parseResult.InvocationConfiguration.Output.WriteLine($"{result.Directory}: {result.Manifest.Mode} bundle ({result.Manifest.Provenance.PeftType}), {result.MergedModules.Count} adapter inputs, adapters in {Path.Combine(result.Directory, "adapters")}");
        return 0;
    }

    private sealed class Progress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
