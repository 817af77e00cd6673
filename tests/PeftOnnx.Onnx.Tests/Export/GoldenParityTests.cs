using System.Text.Json.Nodes;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Json;
using PeftOnnx.Onnx.Export;
using Xunit.Abstractions;

namespace PeftOnnx.Onnx.Tests.Export;

/// <summary>
/// Parity of exported bundles against the PEFT references (tests/fixtures/peft, made by transformers + PEFT 0.21):
/// ONNX Runtime on the bundle vs PyTorch with the adapter active. Tolerances: goldens README (2e-4 for rsLoRA,
/// whose fp32 reference itself is 9.2e-5 from a float64 computation).
/// </summary>
public sealed class GoldenParityTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private BundleExportResult Export(string caseName, IReadOnlyList<string>? labels = null) =>
        new BundleExporter().Export(new BundleExportOptions
        {
            BaseDirectory = AdapterFixtures.BaseModelDirectory,
            AdapterDirectory = AdapterFixtures.Golden(caseName),
            OutputDirectory = _tmp.Combine(caseName),
            Labels = labels,
        });

    [Theory]
    [InlineData("lora_qv_r8", 1e-4)]
    [InlineData("lora_all_r16_rslora", 2e-4)]
    [InlineData("ia3_kv_ff", 1e-4)]
    public void Merged_bundle_matches_peft_hidden_states(string caseName, double tolerance)
    {
        var result = Export(caseName);
        var reference = GoldenReference.Load(caseName);
        var actual = OrtRunner.Run(Path.Combine(result.Directory, "model.onnx"), reference, "last_hidden_state")["last_hidden_state"];

        var diff = GoldenReference.MaxAbsDiff(actual, reference.Expected);
        output.WriteLine($"{caseName}: {result.MergedModules.Count} modules merged, max |ORT - PEFT| on last_hidden_state [4, 35, 384] = {diff:E2} (tolerance {tolerance:E0})");
        Assert.True(diff <= tolerance, $"{caseName}: max abs diff {diff:E3} > {tolerance:E0}");

        var bundle = PeftJson.Load<BundleManifest>(Path.Combine(result.Directory, BundleManifest.FileName));
        Assert.Equal(BundleTask.FeatureExtraction, bundle.Task);
        Assert.Equal("merged", bundle.Mode);
        Assert.Equal("last_hidden_state", bundle.Outputs["last_hidden_state"]);
        Assert.Equal("924", bundle.Outputs["pooler_output"]);
        Assert.True(File.Exists(Path.Combine(result.Directory, "vocab.txt")));
    }

    [Fact]
    public void Seqcls_bundle_matches_peft_logits_and_serves_probabilities()
    {
        var result = Export("seqcls_lora_qv_r8");
        var reference = GoldenReference.Load("seqcls_lora_qv_r8");
        var outputs = OrtRunner.Run(Path.Combine(result.Directory, "model.onnx"), reference, "logits", "probabilities");

        var diff = GoldenReference.MaxAbsDiff(outputs["logits"], reference.Expected);
        output.WriteLine($"seqcls_lora_qv_r8: max |ORT - PEFT| on logits [4, 12] = {diff:E2} (tolerance 1E-004)");
        Assert.True(diff <= 1e-4, $"max abs diff {diff:E3} > 1e-4");

        for (var row = 0; row < 4; row++)
        {
            var logits = outputs["logits"].AsSpan(row * 12, 12).ToArray();
            var max = logits.Max();
            var z = logits.Sum(l => Math.Exp(l - max));
            for (var j = 0; j < 12; j++)
                Assert.Equal(Math.Exp(logits[j] - max) / z, outputs["probabilities"][(row * 12) + j], 5);
        }

        var bundle = result.Manifest;
        Assert.Equal(BundleTask.SequenceClassification, bundle.Task);
        Assert.Equal([.. Enumerable.Range(0, 12).Select(i => $"label_{i}")], bundle.Labels);
        Assert.Equal("pooler", bundle.Pooling);
        Assert.Equal(new Dictionary<string, string> { ["logits"] = "logits", ["probabilities"] = "probabilities" }, bundle.Outputs);
    }

    [Fact]
    public void Provenance_is_in_bundle_json_and_onnx_metadata()
    {
        // The debian-sections labels (data/README.md order).
        string[] labels = ["admin", "database", "editors", "electronics", "games", "graphics", "mail", "math", "net", "science", "sound", "video"];
        var result = Export("seqcls_lora_qv_r8", labels);
        var bundle = PeftJson.Load<BundleManifest>(Path.Combine(result.Directory, BundleManifest.FileName));
        Assert.Equal(labels, bundle.Labels);
        Assert.Equal("4a64cee3d4134bbdc86eed96e1a660efec58975417204ecfcf134140edb6e0e2", bundle.Provenance.BaseSha256);
        Assert.Equal(Sha256(Path.Combine(AdapterFixtures.Golden("seqcls_lora_qv_r8"), "adapter_model.safetensors")), bundle.Provenance.AdapterSha256);
        Assert.Equal("LORA", bundle.Provenance.PeftType);
        Assert.Equal("SEQ_CLS", (string?)bundle.Provenance.AdapterConfig!["task_type"]);

        var model = OnnxModelFile.Load(Path.Combine(result.Directory, "model.onnx"));
        var metadata = model.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(bundle.Provenance.BaseSha256, metadata["peftonnx.base_sha256"]);
        Assert.Equal(bundle.Provenance.AdapterSha256, metadata["peftonnx.adapter_sha256"]);
        Assert.Equal(8, (int?)JsonNode.Parse(metadata["peftonnx.adapter_config"])!["r"]);
        Assert.Contains("\"graphics\"", metadata["peftonnx.labels"]);
        Assert.Equal(["logits", "probabilities"], model.Graph.Output.Select(o => o.Name));
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
    }
}
