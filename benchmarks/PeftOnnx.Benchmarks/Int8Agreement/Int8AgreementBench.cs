using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using PeftOnnx.Core.SafeTensors;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Scoring;
using PeftOnnx.Runtime.Sessions;

namespace PeftOnnx.Benchmarks.Int8Agreement;

/// <summary>
/// How far an int8 (and fp16) bundle strays from the fp32 bundle of the same classifier adapter: argmax agreement
/// and max |logit difference| on the golden's reference inputs (also against PEFT's logits) and on real texts,
/// plus the throughput of each on the same texts.
/// Usage: <c>int8-agreement &lt;base model folder&gt; &lt;seqcls adapter folder&gt; &lt;reference.safetensors&gt; [texts.jsonl] [n=200] [threads=2]</c>.
/// </summary>
internal static class Int8AgreementBench
{
    public static int Run(string[] args)
    {
        if (args.Length < 3)
        {
            Console.Error.WriteLine("usage: int8-agreement <base model folder> <seqcls adapter folder> <reference.safetensors> [texts.jsonl] [n=200] [threads=2]");
            return 2;
        }
        var texts = args.Length > 3 ? ReadTexts(args[3], args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 200) : [];
        var threads = args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : 2;
        var work = Directory.CreateTempSubdirectory("int8-agreement-").FullName;
        try
        {
            var bundles = new Dictionary<string, string>();
            foreach (var (name, precision, quantize) in new[] { ("fp32", "fp32", "none"), ("int8", "fp32", "int8"), ("fp16", "fp16", "none") })
            {
                var result = new BundleExporter().Export(new BundleExportOptions
                {
                    BaseDirectory = args[0], AdapterDirectory = args[1], OutputDirectory = Path.Combine(work, name), Precision = precision, Quantize = quantize,
                });
                bundles[name] = result.Directory;
            }

            using var reference = SafeTensorFile.Open(args[2]);
            var expected = reference.ReadFloat32("expected_logits");
            var fp32Golden = GoldenLogits(bundles["fp32"], reference);
            Console.WriteLine($"golden inputs ({fp32Golden.Length} rows): fp32 vs PEFT max |logit diff| = {MaxDiff(fp32Golden, Rows(expected, fp32Golden.Length)):E2}");
            var settings = new SessionSettings { Device = DeviceKind.Cpu, IntraOpThreads = threads };
            var fp32Texts = Score(bundles["fp32"], settings, texts);
            foreach (var name in new[] { "int8", "fp16" })
            {
                var golden = GoldenLogits(bundles[name], reference);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"golden inputs: {name} vs fp32 argmax agreement {Agreement(golden, fp32Golden)}/{golden.Length}, max |logit diff| {MaxDiff(golden, fp32Golden):E2}; vs PEFT {MaxDiff(golden, Rows(expected, golden.Length)):E2}"));
                if (texts.Count == 0)
                    continue;
                var scored = Score(bundles[name], settings, texts);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{texts.Count} texts: {name} vs fp32 argmax agreement {Agreement(scored.Probabilities, fp32Texts.Probabilities)}/{texts.Count} ({100.0 * Agreement(scored.Probabilities, fp32Texts.Probabilities) / texts.Count:F1}%), max |prob diff| {MaxDiff(scored.Probabilities, fp32Texts.Probabilities):E2}; {scored.PerSecond:F1} texts/s vs fp32 {fp32Texts.PerSecond:F1} texts/s"));
            }
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static float[][] GoldenLogits(string bundle, SafeTensorFile reference)
    {
        var shape = reference["input_ids"].Shape;
        var feeds = new Dictionary<string, long[]>
        {
            ["input_ids"] = reference.ReadInt64("input_ids"),
            ["attention_mask"] = reference.ReadInt64("attention_mask"),
            ["token_type_ids"] = reference.ReadInt64("token_type_ids"),
        };
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(Path.Combine(bundle, "model.onnx"));
        var names = session.InputMetadata.Keys.ToList();
        var values = names.Select(n => Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(feeds[n], shape)).ToList();
        try
        {
            using var options = new Microsoft.ML.OnnxRuntime.RunOptions();
            using var results = session.Run(options, names, values, ["logits"]);
            return Rows(results[0].GetTensorDataAsSpan<float>().ToArray(), (int)shape[0]);
        }
        finally
        {
            values.ForEach(v => v.Dispose());
        }
    }

    /// <summary>Class probabilities per text through the runtime scorer (what `peftonnx score` serves), and texts per second.</summary>
    private static (float[][] Probabilities, double PerSecond) Score(string bundle, SessionSettings settings, List<string> texts)
    {
        if (texts.Count == 0)
            return ([], 0);
        using var model = OnnxModel.Load(bundle, settings);
        var scorer = new OnnxTextScorer(model);
        scorer.Score(texts.Take(8).ToList());
        var watch = Stopwatch.StartNew();
        var scores = scorer.Score(texts);
        return ([.. scores.Select(s => s.Probabilities!)], texts.Count / watch.Elapsed.TotalSeconds);
    }

    private static List<string> ReadTexts(string path, int n) =>
        [.. File.ReadLines(path).Take(n).Select(line => JsonDocument.Parse(line).RootElement.GetProperty("text").GetString()!)];

    private static float[][] Rows(float[] flat, int rows) => [.. flat.Chunk(flat.Length / rows)];

    private static int Agreement(float[][] a, float[][] b) => a.Zip(b).Count(p => ArgMax(p.First) == ArgMax(p.Second));

    private static int ArgMax(float[] row) => Array.IndexOf(row, row.Max());

    private static double MaxDiff(float[][] a, float[][] b) => a.Zip(b).Max(p => p.First.Zip(p.Second).Max(q => Math.Abs((double)q.First - q.Second)));
}
