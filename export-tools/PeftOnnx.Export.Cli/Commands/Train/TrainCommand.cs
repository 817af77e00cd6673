using System.CommandLine;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.Models;
using PeftOnnx.Training;
using PeftOnnx.Training.Data;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.TrainingLoop;
using Spectre.Console;

namespace PeftOnnx.Export.Cli.Commands.Train;

/// <summary>
/// `peftonnx-export train`: fine-tune a base model for sequence classification with a PEFT method (or a
/// baseline) and write the adapter folder. Progress on stderr; a one-line summary on stdout.
/// Ctrl-C stops after the current step and saves a checkpoint that --resume continues from.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var options = new TrainOptions();
        var methods = new MethodOptions();
        var command = new Command("train", "Fine-tune a base model for sequence classification and write a PEFT adapter folder.");
        foreach (var option in options.All.Concat(methods.All))
            command.Options.Add(option);
        command.SetAction(parseResult => Run(parseResult, options, methods));
        return command;
    }

    private static int Run(ParseResult parseResult, TrainOptions options, MethodOptions methods)
    {
        var stderr = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        using var cancellation = new CancellationTokenSource();
        void OnCancel(object? sender, ConsoleCancelEventArgs e)
        {
            // First Ctrl-C: finish the step, save a checkpoint, exit. A second one kills the process.
            if (cancellation.IsCancellationRequested)
                return;
            e.Cancel = true;
            cancellation.Cancel();
        }
        Console.CancelKeyPress += OnCancel;
        try
        {
            var baseDir = parseResult.GetValue(options.BaseModel)!;
            var manifest = PeftJson.Load<ModelManifest>(Path.Combine(baseDir, ModelManifest.FileName));
            var request = options.ToRequest(parseResult, methods.Create(parseResult, BertConfig.FromArchitecture(manifest.Architecture)));
            var progress = new ConsoleTrainingProgress(stderr);
            var report = progress.Run(() => FineTuningRun.Run(request, progress, cancellation.Token));
            var accuracy = report.ProblemType is null ? "accuracy" : "subset accuracy";
            var testSummary = report.TestAccuracy is { } acc
                ? $", test {accuracy} {acc:P2} ({(report.TestMicroF1 is { } micro ? $"micro-F1 {micro:P2}, " : "")}macro-F1 {report.TestMacroF1:P2})"
                : "";
            Console.Out.WriteLine(
                $"{Path.GetFullPath(request.OutputDirectory)}: {report.Method}, {report.TrainableParameters:N0} trainable ({report.TrainablePercent:F2}%), " +
                $"best epoch {report.BestEpoch} (step {report.BestStep}), dev {accuracy} {report.DevAccuracy:P2}{testSummary}, {report.WallSeconds:F0} s, peak {report.PeakMemoryBytes / 1048576.0:F0} MiB");
            return 0;
        }
        catch (OperationCanceledException e)
        {
            stderr.MarkupLineInterpolated($"[yellow]{e.Message}[/]");
            return 130;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or NotSupportedException or DatasetFormatException or InvalidOperationException)
        {
            stderr.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return 1;
        }
        finally
        {
            Console.CancelKeyPress -= OnCancel;
        }
    }
}
