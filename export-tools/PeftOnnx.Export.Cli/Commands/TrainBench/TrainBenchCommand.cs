using System.CommandLine;
using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Export.Cli.Commands.Train;
using PeftOnnx.Training.Benchmarks;
using PeftOnnx.Training.Encoder;
using Spectre.Console;

namespace PeftOnnx.Export.Cli.Commands.TrainBench;

/// <summary>
/// `peftonnx-export train-bench`: training throughput of one method against ONNX Runtime fp32 inference on
/// the same batches, in one process (run once per method to compare peak memory). Table on stdout.
/// </summary>
internal static class TrainBenchCommand
{
    public static Command Create()
    {
        var baseModel = new Option<string>("--base", "-b") { Description = "Base model folder, e.g. models/minilm-l6.", Required = true };
        var data = new Option<string>("--data") { Description = "Labelled documents to batch (.jsonl/.csv/folder).", Required = true };
        var batches = new Option<int>("--batches") { Description = "Timed batches.", DefaultValueFactory = _ => 10 };
        var batch = new Option<int>("--batch-size") { Description = "Batch size.", DefaultValueFactory = _ => 32 }.WithLegacyAlias("--batch");
        var maxLength = new Option<int>("--max-length") { Description = "Truncation length.", DefaultValueFactory = _ => 128 };
        var checkpointing = new Option<bool>("--gradient-checkpointing") { Description = "Recompute each transformer block in the backward pass (less memory, more compute)." };
        var threads = new Option<int>("--threads") { Description = "Threads for libtorch and ONNX Runtime.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var methods = new MethodOptions();
        var command = new Command("train-bench", "Training tokens/s of a method vs ONNX Runtime fp32 inference tokens/s on the same batches.")
        {
            baseModel, data, batches, batch, maxLength, threads, checkpointing,
        };
        foreach (var option in methods.All)
            command.Options.Add(option);
        command.SetAction(parseResult =>
        {
            var stderr = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            try
            {
                var encoder = BaseEncoder.Load(parseResult.GetValue(baseModel)!);
                var method = methods.Create(parseResult, encoder.Config);
                stderr.MarkupLineInterpolated($"[grey]timing {parseResult.GetValue(batches)} batches of {parseResult.GetValue(batch)} ({method.Name} training vs ONNX Runtime inference, interleaved)...[/]");
                var r = TrainingThroughputBenchmark.Run(encoder, parseResult.GetValue(data)!, method, parseResult.GetValue(batches), parseResult.GetValue(batch), parseResult.GetValue(maxLength), parseResult.GetValue(threads), gradientCheckpointing: parseResult.GetValue(checkpointing));
                Console.Out.WriteLine("| method | checkpointing | trainable | tokens | ORT fp32 inference tok/s | training tok/s | ratio | model loaded RSS | training peak RSS | peak RSS with ORT |");
                Console.Out.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
                Console.Out.WriteLine($"| {r.Method} | {(r.GradientCheckpointing ? "yes" : "no")} | {r.TrainableParameters:N0} ({r.TrainablePercent:F2}%) | {r.Tokens:N0} | {r.InferenceTokensPerSecond:F0} | {r.TrainTokensPerSecond:F0} | {r.Ratio:F3}x | {Mib(r.ModelLoadedBytes)} | {Mib(r.TrainingPeakBytes)} | {Mib(r.PeakMemoryBytes)} |");
                return 0;
            }
            catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or NotSupportedException)
            {
                stderr.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static string Mib(long bytes) => $"{bytes / 1048576.0:F0} MiB";
}
