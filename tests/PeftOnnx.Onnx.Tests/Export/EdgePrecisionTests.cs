using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Json;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Sessions;
using PeftOnnx.Runtime.Tokenization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace PeftOnnx.Onnx.Tests.Export;

/// <summary>
/// --precision fp16 and --quantize int8 bundles: the same outputs as the fp32 merge, within the precision's error; an
/// --edge bundle saved optimized scores as the same bundle optimized at load.
/// </summary>
public sealed class EdgePrecisionTests(ITestOutputHelper output) : IDisposable
{
    private const string Case = "seqcls_lora_qv_r8";
    private readonly TempFolder _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private BundleExportResult Export(string precision, string quantize, bool edge = false, Action<string, string>? optimize = null) => new BundleExporter().Export(new BundleExportOptions
    {
        BaseDirectory = AdapterFixtures.BaseModelDirectory,
        AdapterDirectory = AdapterFixtures.Golden(Case),
        OutputDirectory = _tmp.Combine($"{precision}-{quantize}{(edge ? "-edge" : "")}{(optimize is null ? "" : "-optimized")}"),
        Precision = precision,
        Quantize = quantize,
        Edge = edge,
        OptimizeForEdge = optimize,
    });

    [Fact]
    public void Edge_bundle_holds_only_what_the_runtime_reads_and_is_sealed()
    {
        var result = Export("fp32", "int8", edge: true);
        Assert.Equal(["bundle.json", "model.onnx", "vocab.txt"], Directory.GetFiles(result.Directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var manifest = PeftJson.Load<BundleManifest>(Path.Combine(result.Directory, BundleManifest.FileName));
        Assert.Null(manifest.Provenance.AdapterConfig);
        Assert.NotNull(manifest.Provenance.AdapterSha256);
        Assert.True(BundleFiles.Verify(result.Directory, manifest, [manifest.Model, manifest.Tokenizer.Vocab]));
        var metadata = OnnxModelFile.Load(Path.Combine(result.Directory, manifest.Model)).MetadataProps.Select(p => p.Key).ToList();
        Assert.DoesNotContain("peftonnx.adapter_config", metadata);
        Assert.Contains("peftonnx.adapter_sha256", metadata);
    }

    [Fact]
    public void Optimized_edge_bundle_scores_as_the_bundle_optimized_at_load()
    {
        var plain = Export("fp32", "int8");
        var edge = Export("fp32", "int8", edge: true, optimize: OfflineOptimization.SaveOrtFormat);
        Assert.Null(plain.Manifest.GraphOptimization);
        Assert.Equal(BundleManifest.ExtendedOptimization, edge.Manifest.GraphOptimization);
        Assert.Equal(["bundle.json", BundleManifest.OrtModelFile, "vocab.txt"], Directory.GetFiles(edge.Directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var ort = Path.Combine(edge.Directory, edge.Manifest.Model);
        Assert.Equal("ORTM"u8.ToArray(), File.ReadAllBytes(ort)[4..8]); // the ORT format's flatbuffer identifier

        // What the edge runtime runs, as ONNX Runtime's profiler names the kernels (the ORT file is flatbuffers, not ONNX).
        var fused = ProfiledOperators(ort).Where(op => op is "DynamicQuantizeMatMul" or "Gelu" or "MatMulInteger" or "DynamicQuantizeLinear").ToList();
        output.WriteLine($"int8 edge model.ort ({new FileInfo(ort).Length / 1e6:F1} MB) runs: {string.Join(", ", fused)}");
        Assert.Contains("DynamicQuantizeMatMul", fused); // DynamicQuantizeLinear + MatMulInteger + scale, one operator
        Assert.Contains("Gelu", fused);
        Assert.DoesNotContain("MatMulInteger", fused);

        var settings = new SessionSettings { Device = DeviceKind.Cpu, IntraOpThreads = 1 };
        using var optimizedAtLoad = OnnxModel.Load(plain.Directory, settings);
        using var savedOptimized = OnnxModel.Load(edge.Directory, settings);
        string[] texts = ["GNU Octave package for geometry: polygons, points and lines.", "Linux kernel headers for development", "a"];
        var batch = TokenBatch.Create([.. texts.Select(t => optimizedAtLoad.Tokenizer.Encode(t, 64))], optimizedAtLoad.Tokenizer.PadId);
        var expected = optimizedAtLoad.ClassScores(batch);
        var actual = savedOptimized.ClassScores(batch);
        var diff = expected.Zip(actual).Max(rows => rows.First.Zip(rows.Second).Max(p => Math.Abs(p.First - p.Second)));
        output.WriteLine($"int8 edge bundle saved optimized (ORT format) vs optimized at load: max |logit diff| = {diff:E2} over {texts.Length} texts");
        Assert.True(diff <= 1e-4, $"the saved optimized model's logits differ by {diff:E3}");
    }

    [Fact]
    public void A_changed_ort_model_is_refused_by_the_bytes_it_would_run()
    {
        var edge = Export("fp32", "int8", edge: true, optimize: OfflineOptimization.SaveOrtFormat);
        var ort = Path.Combine(edge.Directory, edge.Manifest.Model);
        var bytes = File.ReadAllBytes(ort);
        bytes[^100] ^= 1;
        File.WriteAllBytes(ort, bytes);
        var error = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(edge.Directory, new SessionSettings { Device = DeviceKind.Cpu, IntraOpThreads = 1 }));
        output.WriteLine(error.Message);
        Assert.StartsWith($"{ort} does not match bundle.json: its sha256 is ", error.Message);
    }

    /// <summary>The operator of every node ONNX Runtime ran for one short row, read from its profile.</summary>
    private List<string> ProfiledOperators(string modelPath)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, IntraOpNumThreads = 1 };
        options.EnableProfiling = true;
        options.ProfileOutputPathPrefix = _tmp.Combine("profile");
        using var session = new InferenceSession(modelPath, options);
        long[] ids = [101, 7592, 102];
        var inputs = session.InputMetadata.Keys.Select(name =>
            OrtValue.CreateTensorValueFromMemory(name == "input_ids" ? ids : name == "attention_mask" ? [1L, 1, 1] : new long[3], [1, 3])).ToList();
        try
        {
            using var runOptions = new RunOptions();
            using (session.Run(runOptions, [.. session.InputMetadata.Keys], inputs, [.. session.OutputMetadata.Keys]))
            {
            }
        }
        finally
        {
            inputs.ForEach(v => v.Dispose());
        }
        var profile = session.EndProfiling();
        using var json = JsonDocument.Parse(File.ReadAllText(profile));
        return [.. json.RootElement.EnumerateArray()
            .Where(e => e.GetProperty("cat").GetString() == "Node" && e.TryGetProperty("args", out var a) && a.TryGetProperty("op_name", out _))
            .Select(e => e.GetProperty("args").GetProperty("op_name").GetString()!).Distinct()];
    }

    [Fact]
    public void A_max_length_beyond_the_recorded_position_table_is_refused_without_running_the_model()
    {
        var edge = Export("fp32", "int8", edge: true, optimize: OfflineOptimization.SaveOrtFormat);
        var path = Path.Combine(edge.Directory, BundleManifest.FileName);
        PeftJson.Save(path, edge.Manifest with { Tokenizer = edge.Manifest.Tokenizer with { MaxLength = 1024 } });
        var error = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(edge.Directory, new SessionSettings { Device = DeviceKind.Cpu, IntraOpThreads = 1 }));
        output.WriteLine(error.Message);
        Assert.Equal($"{path}: max_length 1024 is more than {Path.Combine(edge.Directory, BundleManifest.OrtModelFile)} can run (its position table holds 512); set \"max_length\" to at most 512 or re-export the bundle.", error.Message);
    }

    [Theory]
    [InlineData("fp16", "none", "fp16", 1e-3, 50)]
    [InlineData("fp32", "int8", "int8", 5e-2, 30)]
    public void Edge_bundle_logits_stay_close_to_peft(string precision, string quantize, string expectedPrecision, double tolerance, int maxMegabytes)
    {
        var result = Export(precision, quantize);
        Assert.Equal(expectedPrecision, result.Manifest.Precision);
        // The fp32 model is 91 MB: a smaller file shows the pass really rewrote the weights.
        Assert.True(new FileInfo(Path.Combine(result.Directory, "model.onnx")).Length < maxMegabytes * 1_000_000L);
        var reference = GoldenReference.Load(Case);
        var logits = OrtRunner.Run(Path.Combine(result.Directory, "model.onnx"), reference, "logits", "probabilities")["logits"];

        var diff = GoldenReference.MaxAbsDiff(logits, reference.Expected);
        var agree = Enumerable.Range(0, 4).Count(r => ArgMax(logits, r) == ArgMax(reference.Expected, r));
        output.WriteLine($"{Case} {expectedPrecision}: max |logit - PEFT| = {diff:E2}, argmax agreement {agree}/4, model.onnx {new FileInfo(Path.Combine(result.Directory, "model.onnx")).Length / 1e6:F1} MB");
        Assert.True(diff <= tolerance, $"{expectedPrecision} logits differ by {diff:E3} > {tolerance:E0}");
        Assert.Equal(4, agree);
    }

    [Fact]
    public void Fp16_and_int8_exclude_each_other()
    {
        var e = Assert.Throws<ArgumentException>(() => Export("fp16", "int8"));
        Assert.Contains("exclude each other", e.Message);
        Assert.Empty(Directory.GetDirectories(_tmp.Path));
    }

    private static int ArgMax(float[] flat, int row)
    {
        var span = flat.AsSpan(row * 12, 12);
        var best = 0;
        for (var j = 1; j < span.Length; j++)
        {
            if (span[j] > span[best])
                best = j;
        }
        return best;
    }
}
