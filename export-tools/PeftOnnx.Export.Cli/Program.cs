using System.CommandLine;

var root = new RootCommand("peftonnx-export: train adapters, export them into ONNX, inspect ONNX models.");
// Verbs, one line each (Commands/<Verb>/<Verb>Command.cs).
root.Subcommands.Add(PeftOnnx.Export.Cli.Commands.Optimize.OptimizeCommand.Create());

return await root.Parse(args).InvokeAsync();
