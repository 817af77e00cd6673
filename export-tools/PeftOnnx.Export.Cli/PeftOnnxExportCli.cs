using System.CommandLine;
using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Export.Cli.Commands.Bench;
using PeftOnnx.Export.Cli.Commands.Export;
using PeftOnnx.Export.Cli.Commands.Inspect;
using PeftOnnx.Export.Cli.Commands.MergeAdapters;
using PeftOnnx.Export.Cli.Commands.Models;
using PeftOnnx.Export.Cli.Commands.Optimize;
using PeftOnnx.Export.Cli.Commands.Quantize;
using PeftOnnx.Export.Cli.Commands.ToLora;
using PeftOnnx.Export.Cli.Commands.Train;
using PeftOnnx.Export.Cli.Commands.TrainBench;

namespace PeftOnnx.Export.Cli;

/// <summary>The `peftonnx-export` command line: the root command and its verbs, one line each (Commands/&lt;Verb&gt;/&lt;Verb&gt;Command.cs).</summary>
public static class PeftOnnxExportCli
{
    public static RootCommand BuildRootCommand()
    {
        var root = new RootCommand("peftonnx-export: train adapters, export them into ONNX, inspect ONNX models.")
        {
            InspectCommand.Create(),
            ExportCommand.Create(),
            TrainCommand.Create(),
            OptimizeCommand.Create(),
            QuantizeCommand.Create(),
            BenchCommand.Create(),
            TrainBenchCommand.Create(),
            ModelsCommand.Create(),
            MergeAdaptersCommand.Create(),
            ToLoraCommand.Create(),
        };
        return root.HideLegacyAliasesInHelp();
    }
}
