using System.CommandLine;
using PeftOnnx.Cli.Commands.Common;
using System.Text.Json;
using PeftOnnx.Core.Json;
using PeftOnnx.Runtime.Sessions;
using Spectre.Console;

namespace PeftOnnx.Export.Cli.Commands.Bench;

/// <summary>
/// <c>peftonnx-export bench baseline.onnx candidate.onnx [--batch-size 32] [--sequence 128] [--rounds 8] [--device cpu]</c>:
/// A/B latency of two encoders on one batch, alternating runs (e.g. fp32 vs int8 on CPU, fp32 vs fp16 on CUDA).
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var baseline = new Argument<FileInfo>("baseline") { Description = "Model A (e.g. the float32 model)." };
        var candidate = new Argument<FileInfo>("candidate") { Description = "Model B (e.g. its int8 or fp16 conversion)." };
        var batch = new Option<int>("--batch-size") { Description = "Rows per run.", DefaultValueFactory = _ => 32 }.WithLegacyAlias("--batch");
        var sequence = new Option<int>("--sequence") { Description = "Tokens per row.", DefaultValueFactory = _ => 128 }.WithLegacyAlias("--seq");
        var rounds = new Option<int>("--rounds") { Description = "Timed A B pairs.", DefaultValueFactory = _ => 8 };
        var device = new Option<string>("--device") { Description = "cpu or cuda.", DefaultValueFactory = _ => "cpu" };
        device.AcceptOnlyFromAmong("cpu", "cuda");
        var threads = new Option<int?>("--threads") { Description = "CPU intra-op threads (default: one per physical core)." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("bench", "Compare the latency of two encoder models on the same batch, alternating A B A B.")
        {
            baseline, candidate, batch, sequence, rounds, device, threads, json,
        };
        command.SetAction(parseResult =>
        {
            var settings = new SessionSettings
            {
                Device = parseResult.GetValue(device) == "cuda" ? DeviceKind.Cuda : DeviceKind.Cpu,
                IntraOpThreads = parseResult.GetValue(threads),
            };
            var factory = new SessionFactory();
            using var a = factory.Create(parseResult.GetValue(baseline)!.FullName, settings);
            using var b = factory.Create(parseResult.GetValue(candidate)!.FullName, settings);
            var error = parseResult.InvocationConfiguration.Error;
            var result = new SessionComparison(parseResult.GetValue(batch), parseResult.GetValue(sequence), parseResult.GetValue(rounds))
                .Run(a.Session, b.Session, line => error.WriteLine(line));
            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(new { result, baseline_median_ms = result.BaselineMedian, candidate_median_ms = result.CandidateMedian, speedup = result.Speedup, device = a.Device.ToString(), threads = a.IntraOpThreads }, PeftJson.Options));
                return 0;
            }
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
            var table = new Table().Title($"batch {result.Batch} x seq {result.Sequence}, {result.Rounds} rounds A B A B, {a.Device} ({a.IntraOpThreads} threads)")
                .AddColumns("model", "median ms", "min ms", "max ms", "rows/s");
            foreach (var (label, file, times) in new[] { ("A", parseResult.GetValue(baseline)!, result.BaselineMs), ("B", parseResult.GetValue(candidate)!, result.CandidateMs) })
            {
                var median = label == "A" ? result.BaselineMedian : result.CandidateMedian;
                table.AddRow($"{label} {Markup.Escape(file.Name)}", median.ToString("F1"), times.Min().ToString("F1"), times.Max().ToString("F1"), (result.Batch * 1000 / median).ToString("F1"));
            }
            console.Write(table);
            console.MarkupLine($"B is [bold]{result.Speedup:F2}x[/] as fast as A (median A / median B).");
            return 0;
        });
        return command;
    }
}
