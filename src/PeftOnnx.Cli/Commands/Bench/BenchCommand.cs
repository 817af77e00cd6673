using System.CommandLine;
using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Benchmarking;
using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Sessions;
using PeftOnnx.Runtime.Tokenization;
using Spectre.Console;

namespace PeftOnnx.Cli.Commands.Bench;

/// <summary>
/// `peftonnx bench`: inference throughput and latency at fixed batch sizes on synthetic full-length input.
/// Each configuration runs PeftOnnx's session (our options, OrtValue inputs, pooling) and a plain ONNX Runtime
/// baseline (default SessionOptions on the same model.onnx) in alternating segments A B A B, so drift of the
/// machine (other load, thermal) hits both alike.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model(required: false);
        model.DefaultValueFactory = _ => "minilm-l6";
        var batchSizes = new Option<int[]>("--batch-sizes") { Description = "Batch sizes to measure.", DefaultValueFactory = _ => [1, 8, 32], AllowMultipleArgumentsPerToken = true };
        var sequence = new Option<int>("--sequence") { Description = "Tokens per sequence (including [CLS] and [SEP]).", DefaultValueFactory = _ => 128 };
        var iterations = new Option<int>("--iterations") { Description = "Timed calls per segment (each configuration runs 2 x rounds segments).", DefaultValueFactory = _ => 10 };
        var rounds = new Option<int>("--rounds") { Description = "A/B rounds per configuration.", DefaultValueFactory = _ => 2 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed calls per runtime before measuring.", DefaultValueFactory = _ => 2 };
        var device = CliOptions.Device();
        var threads = CliOptions.Threads();
        var modelsDir = CliOptions.ModelsDir();
        var command = new Command("bench", "Benchmark inference: tokens/s and p50/p95 latency per batch size, PeftOnnx vs plain ONNX Runtime.")
        {
            model, batchSizes, sequence, iterations, rounds, warmup, device, threads, modelsDir,
        };
        command.Subcommands.Add(BenchMatrixCommand.Create());
        command.Subcommands.Add(BenchFolderCommand.Create());
        CliAction.Set(command, (result, context, cancellationToken) =>
        {
            var sizes = result.GetValue(batchSizes) ?? [];
            var seq = result.GetValue(sequence);
            var count = result.GetValue(iterations);
            var roundCount = result.GetValue(rounds);
            var warm = result.GetValue(warmup);
            if (sizes.Length == 0 || sizes.Any(b => b < 1))
                throw new UsageException($"--batch-sizes must be positive integers, got '{string.Join(' ', sizes)}'.");
            if (count < 1 || roundCount < 1 || warm < 0)
                throw new UsageException($"--iterations and --rounds must be at least 1 and --warmup at least 0 (got {count}, {roundCount}, {warm}).");

            var directory = ModelLocator.Resolve(result.GetValue(model)!, result.GetValue(modelsDir));
            using var ours = OnnxModel.Load(directory, CliOptions.SessionSettings(result, device, threads), context.Logger("bench"));
            if (seq < 3 || seq > ours.MaxLength)
                throw new UsageException($"--sequence must be in [3, {ours.MaxLength}] for {ours.Manifest.Name}, got {seq}.");
            using var baseline = new InferenceSession(ours.ModelPath);
            var row = SyntheticRow(ours.Tokenizer, seq);

            var table = new Table().AddColumns("batch", "seq", "runtime", "tokens/s", "p50 ms", "p95 ms", "calls");
            foreach (var batchSize in sizes)
            {
                var batch = TokenBatch.Create(Enumerable.Repeat(row, batchSize).ToList(), ours.Tokenizer.PadId);
                Action runOurs = ours.IsClassifier ? () => ours.ClassScores(batch) : () => ours.Embed(batch);
                Action runBaseline = () => RunBaseline(baseline, batch);
                IReadOnlyList<LatencySummary> summaries = [];
                context.Progress.Status().Start($"batch {batchSize} x {seq}", _ =>
                    summaries = new AlternatingTimer(roundCount, count, warm).Measure([runOurs, runBaseline], cancellationToken: cancellationToken));
                var tokens = batchSize * seq;
                foreach (var (runtime, s) in new[] { ("peftonnx", summaries[0]), ("ort default", summaries[1]) })
                    table.AddRow(batchSize.ToString(), seq.ToString(), runtime, $"{tokens / (s.Mean / 1000):F0}", $"{s.Percentile(50):F1}", $"{s.Percentile(95):F1}", s.Count.ToString());
            }

            context.Out.WriteLine($"model: {ours.ModelId} ({ours.ModelPath})");
            context.Out.WriteLine($"cpu: {MachineInfo.CpuModel}, {MachineInfo.PhysicalCores} physical cores, {MachineInfo.LogicalProcessors} logical processors");
            context.Out.WriteLine($"onnx runtime: {OrtEnvironment.Instance.GetVersionString()}, device {ours.Device.ToString().ToLowerInvariant()}, intra-op threads {(ours.IntraOpThreads == 0 ? "ORT default" : ours.IntraOpThreads)} (baseline: ORT default options)");
            context.Out.WriteLine($"input: synthetic, every row {seq} tokens, no padding; {count} calls x {roundCount} rounds per runtime, A B A B, after {warm} warm-up calls");
            context.Results.Write(table);
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>A full-length row: ordinary English words, truncated to exactly <paramref name="length"/> tokens.</summary>
    private static TokenizedText SyntheticRow(BertTokenizer tokenizer, int length)
    {
        var text = string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog while the network streams video to the server. ", length));
        var row = tokenizer.Encode(text, length);
        return row.Length == length ? row : throw new InvalidOperationException($"Synthetic text tokenized to {row.Length} tokens, expected {length}.");
    }

    /// <summary>What a plain ONNX Runtime user writes: default options, every input the graph declares, every output.</summary>
    private static void RunBaseline(InferenceSession session, TokenBatch batch)
    {
        long[] shape = [batch.BatchSize, batch.SequenceLength];
        var inputs = new Dictionary<string, OrtValue>();
        try
        {
            foreach (var name in session.InputMetadata.Keys)
            {
                var data = name switch
                {
                    "input_ids" => batch.InputIds,
                    "attention_mask" => batch.AttentionMask,
                    "token_type_ids" => batch.TokenTypeIds,
                    _ => throw new InvalidDataException($"Baseline does not know how to feed input '{name}'."),
                };
                inputs[name] = OrtValue.CreateTensorValueFromMemory(data, shape);
            }
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, inputs.Keys.ToList(), inputs.Values.ToList(), session.OutputNames);
        }
        finally
        {
            foreach (var value in inputs.Values)
                value.Dispose();
        }
    }
}
