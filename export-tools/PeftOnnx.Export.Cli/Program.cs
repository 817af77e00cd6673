using System.CommandLine;
using PeftOnnx.Export.Cli.Commands.Bench;
using PeftOnnx.Export.Cli.Commands.Export;
using PeftOnnx.Export.Cli.Commands.Inspect;
using PeftOnnx.Export.Cli.Commands.Optimize;
using PeftOnnx.Export.Cli.Commands.Quantize;
using PeftOnnx.Export.Cli.Commands.Train;

var root = new RootCommand("peftonnx-export: train adapters, export them into ONNX, inspect ONNX models.");
// Verbs, one line each (Commands/<Verb>/<Verb>Command.cs).
root.Subcommands.Add(InspectCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(OptimizeCommand.Create());
root.Subcommands.Add(QuantizeCommand.Create());
root.Subcommands.Add(BenchCommand.Create());

return await root.Parse(args).InvokeAsync();
