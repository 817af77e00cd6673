using System.CommandLine;
using PeftOnnx.Core.Adapters;
using PeftOnnx.Onnx.Export;
using Spectre.Console;

namespace PeftOnnx.Export.Cli.Commands.Export;

/// <summary>
/// The side-graph options of `peftonnx-export export`: --mode side|mixed writes a base bundle with adapter inputs and
/// one .onnx_adapter per adapter (--adapter plus every --extra-adapter) instead of merging. Without --mode, an adapter
/// that cannot be folded into the weights gets --mode side.
/// </summary>
internal sealed class SideExportOptions
{
    private readonly Option<string> _mode = new("--mode") { Description = "merged (fold the adapter into the weights), side (adapters as ONNX Runtime LoRA adapters, one per run) or mixed (rows of different adapters in one run). Default: merged for an adapter that can be folded into the weights, side for one that cannot.", DefaultValueFactory = _ => "merged" };
    private readonly Option<string[]> _extra = new("--extra-adapter") { Description = "More adapter folders to convert for a side bundle (repeatable).", AllowMultipleArgumentsPerToken = true };
    private readonly Option<string[]> _targets = new("--targets") { Description = "LoRA side graphs: extra modules to give a branch (e.g. key dense), beyond those the adapters use.", AllowMultipleArgumentsPerToken = true };
    private readonly Option<int?> _maxRank = new("--max-rank") { Description = "LoRA side graphs: highest rank an adapter may have (default: max(64, the adapters' rank))." };

    public static SideExportOptions Create()
    {
        var options = new SideExportOptions();
        options._mode.AcceptOnlyFromAmong("merged", "side", "mixed");
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
