using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Benchmarking;
using PeftOnnx.Onnx.Export;

namespace PeftOnnx.Benchmarks.MergedVsBase;

/// <summary>
/// Throughput of a merged bundle against its base model on CPU, in alternating rounds (A B A B ...) so that load
/// from other processes hits both alike. A merged adapter changes only weight values, so the target ratio is ~1
/// (>= 0.98). The bundle is exported first (same code as <c>peftonnx-export export</c>), into a temporary folder.
/// Usage: <c>merged-vs-base &lt;base model folder&gt; &lt;adapter folder&gt; [rounds] [batch] [seq] [threads]</c>.
/// </summary>
internal static class MergedVsBaseBench
{
    public static int Run(string[] args)
    {
        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: merged-vs-base <base model folder> <adapter folder> [rounds=8] [batch=32] [seq=128] [threads=2]");
            return 2;
        }
        var rounds = Arg(args, 2, 8);
        var batch = Arg(args, 3, 32);
        var seq = Arg(args, 4, 128);
        var threads = Arg(args, 5, 2);

        var bundleDir = Directory.CreateTempSubdirectory("merged-vs-base-").FullName;
        try
        {
            var bundle = new BundleExporter().Export(new BundleExportOptions { BaseDirectory = args[0], AdapterDirectory = args[1], OutputDirectory = Path.Combine(bundleDir, "bundle") });
            Console.WriteLine($"exported {bundle.MergedModules.Count} merged modules ({bundle.Manifest.Provenance.PeftType}) from {args[1]}");
            return Measure(Path.Combine(args[0], "model.onnx"), Path.Combine(bundle.Directory, bundle.Manifest.Model), rounds, batch, seq, threads);
        }
        finally
        {
            Directory.Delete(bundleDir, recursive: true);
        }
    }

    private static int Measure(string baseModel, string mergedModel, int rounds, int batch, int seq, int threads)
    {
        const int runsPerRound = 3;
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var baseSession = new InferenceSession(baseModel, options);
        using var mergedSession = new InferenceSession(mergedModel, options);

        // [batch, seq] int64 inputs: [CLS] ids... [SEP], no padding, created once (OrtValue over pinned arrays).
        var rng = new Random(42);
        var ids = new long[batch * seq];
        for (var i = 0; i < ids.Length; i++)
            ids[i] = (i % seq) switch { 0 => 101, var p when p == seq - 1 => 102, _ => rng.Next(1000, 30000) };
        var mask = Enumerable.Repeat(1L, batch * seq).ToArray();
        var types = new long[batch * seq];
        long[] shape = [batch, seq];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
        using var typesValue = OrtValue.CreateTensorValueFromMemory(types, shape);
        var feeds = new Dictionary<string, OrtValue> { ["input_ids"] = idsValue, ["attention_mask"] = maskValue, ["token_type_ids"] = typesValue };

        Action Runner(InferenceSession session)
        {
            var names = session.InputMetadata.Keys.ToList();
            var values = names.Select(n => feeds[n]).ToList();
            var outputs = session.OutputMetadata.Keys.ToList();
            return () =>
            {
                using var runOptions = new RunOptions();
                using var results = session.Run(runOptions, names, values, outputs);
            };
        }

        var times = new AlternatingTimer(rounds, runsPerRound).Measure([Runner(baseSession), Runner(mergedSession)]);
        // Sequences per second of each round: its runsPerRound calls together.
        List<double> Rates(LatencySummary summary) =>
            [.. summary.Samples.Chunk(runsPerRound).Select(round => runsPerRound * batch / (round.Sum() / 1000))];
        var baseRates = Rates(times[0]);
        var mergedRates = Rates(times[1]);
        Console.WriteLine($"merged vs base, CPU, {threads} threads, batch {batch} x seq {seq}, {runsPerRound} runs per round, alternating");
        Console.WriteLine("round | base seq/s | merged seq/s | merged/base");
        for (var round = 0; round < rounds; round++)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{round + 1,5} | {baseRates[round],10:F1} | {mergedRates[round],12:F1} | {mergedRates[round] / baseRates[round],11:F3}"));
        // The median of per-round ratios compares neighbours in time, so slow drifts in machine load cancel.
        var pairedRatio = Median([.. mergedRates.Zip(baseRates, (m, b) => m / b)]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median | {Median(baseRates),10:F1} | {Median(mergedRates),12:F1} | {Median(mergedRates) / Median(baseRates),11:F3}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"median of per-round ratios: {pairedRatio:F3} (target >= 0.98)"));
        return 0;
    }

    private static int Arg(string[] args, int index, int fallback) =>
        args.Length > index ? int.Parse(args[index], CultureInfo.InvariantCulture) : fallback;

    private static double Median(List<double> values)
    {
        var summary = new LatencySummary();
        values.ForEach(summary.Add);
        return summary.Median;
    }
}
