using System.CommandLine;
using System.Text.Json;
using PeftOnnx.Core.Json;
using PeftOnnx.Onnx;
using Spectre.Console;

namespace PeftOnnx.Export.Cli.Commands.Inspect;

/// <summary><c>peftonnx-export inspect model.onnx [--json]</c>: module map, parameter counts, inputs/outputs, opset, op histogram.</summary>
public static class InspectCommand
{
    public static Command Create()
    {
        var model = new Argument<FileInfo>("model") { Description = "The ONNX model to inspect (external data is read from its folder)." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON instead of tables." };
        var command = new Command("inspect", "Show an ONNX model's Hugging Face module map, parameter counts, inputs/outputs, opsets and operators.")
        {
            model,
            json,
        };
        command.SetAction(parseResult => Run(
            parseResult.GetValue(model)!,
            parseResult.GetValue(json),
            parseResult.InvocationConfiguration.Output,
            parseResult.InvocationConfiguration.Error));
        return command;
    }

    /// <summary>Exit codes: 0 done, 1 the file is not a readable ONNX model, 2 read but its module map failed (report printed).</summary>
    private static int Run(FileInfo file, bool json, TextWriter output, TextWriter error)
    {
        ModelReport report;
        try
        {
            report = ModelReport.Build(file.FullName, OnnxModelFile.Load(file.FullName));
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException)
        {
            error.WriteLine($"inspect: {e.Message}");
            return 1;
        }
        if (json)
            output.WriteLine(JsonSerializer.Serialize(report, PeftJson.Options));
        else
            ModelReportView.Write(Console(output), report);
        if (report.ModuleMapError is not null)
        {
            error.WriteLine($"inspect: {report.ModuleMapError}");
            return 2;
        }
        return 0;
    }

    /// <summary>Spectre assumes 80 columns when stdout is redirected; module names need more to stay on one line.</summary>
    private static IAnsiConsole Console(TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        if (System.Console.IsOutputRedirected || output != System.Console.Out)
            console.Profile.Width = 160;
        return console;
    }
}
