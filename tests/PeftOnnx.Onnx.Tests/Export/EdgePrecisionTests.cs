using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Json;
using PeftOnnx.Onnx.Export;
using Xunit.Abstractions;

namespace PeftOnnx.Onnx.Tests.Export;

/// <summary>--precision fp16 and --quantize int8 bundles: the same outputs as the fp32 merge, within the precision's error.</summary>
public sealed class EdgePrecisionTests(ITestOutputHelper output) : IDisposable
{
    private const string Case = "seqcls_lora_qv_r8";
    private readonly TempFolder _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private BundleExportResult Export(string precision, string quantize, bool edge = false) => new BundleExporter().Export(new BundleExportOptions
    {
        BaseDirectory = AdapterFixtures.BaseModelDirectory,
        AdapterDirectory = AdapterFixtures.Golden(Case),
        OutputDirectory = _tmp.Combine($"{precision}-{quantize}{(edge ? "-edge" : "")}"),
        Precision = precision,
        Quantize = quantize,
        Edge = edge,
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
