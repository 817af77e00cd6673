using System.CommandLine;
using PeftOnnx.Export.Cli.Commands.Export;
using PeftOnnx.Export.Cli.Commands.Inspect;
using PeftOnnx.Export.Cli.Commands.Train;
using PeftOnnx.Export.Cli.Commands.TrainBench;

var root = new RootCommand("peftonnx-export: train adapters, export them into ONNX, inspect ONNX models.");
// Verbs, one line each (Commands/<Verb>/<Verb>Command.cs).
root.Subcommands.Add(InspectCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(TrainBenchCommand.Create());

return await root.Parse(args).InvokeAsync();
