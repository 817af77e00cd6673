using System.Text.Json;
using System.Text.Json.Serialization;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.Models;
using PeftOnnx.Tests;

namespace PeftOnnx.Core.Tests.Json;

/// <summary>
/// The manifests are read through their source-generated metadata (CoreJsonContext, the only way the
/// Native AOT edge build reads them): same names, same enum spelling, and the defaults of properties a file leaves out.
/// </summary>
public sealed class SourceGeneratedJsonTests : IDisposable
{
    private readonly TempFolder _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void A_model_json_without_the_defaulted_fields_keeps_their_defaults()
    {
        var path = _tmp.Combine("model.json");
        File.WriteAllText(path, """
            {
              "name": "tiny",
              "package": { "id": "P", "version": "1.0.0", "assembly": "lib/p.dll" },
              "files": [],
              "architecture": { "layers": 2, "hidden": 8, "heads": 2, "intermediate": 16, "vocab_size": 10 },
              "tokenizer": { "max_length": 128 }
            }
            """);
        var manifest = PeftJson.Load<ModelManifest>(path);
        Assert.IsAssignableFrom<JsonSerializerContext>(PeftJson.ReadOptions.GetTypeInfo(typeof(ModelManifest)).OriginatingResolver);
        Assert.Equal(128, manifest.Tokenizer.MaxLength);
        Assert.Equal("vocab.txt", manifest.Tokenizer.Vocab);
        Assert.True(manifest.Tokenizer.Lowercase);
        Assert.True(manifest.Tokenizer.TokenizeChineseChars);
        Assert.Equal("mean", manifest.Pooling);
        Assert.True(manifest.Normalize);
        Assert.Equal(512, manifest.Architecture.MaxPosition);
        Assert.Equal(1e-12, manifest.Architecture.LayerNormEps);
    }

    [Fact]
    public void A_bundle_json_round_trips_with_snake_case_names_and_enum_values()
    {
        var bundle = new BundleManifest
        {
            Name = "b",
            Task = BundleTask.SequenceClassification,
            Tokenizer = new TokenizerSettings(),
            Labels = ["a", "b"],
            Provenance = new BundleProvenance { BaseModel = "minilm-l6" },
        };
        var path = _tmp.Combine("bundle.json");
        PeftJson.Save(path, bundle);
        using (var json = JsonDocument.Parse(File.ReadAllBytes(path)))
        {
            Assert.Equal("sequence_classification", json.RootElement.GetProperty("task").GetString());
            Assert.Equal("minilm-l6", json.RootElement.GetProperty("provenance").GetProperty("base_model").GetString());
        }
        File.WriteAllText(path, """{ "name": "b", "task": "feature_extraction", "tokenizer": {}, "provenance": {} }""");
        var read = PeftJson.Load<BundleManifest>(path);
        Assert.Equal(BundleTask.FeatureExtraction, read.Task);
        Assert.Equal("model.onnx", read.Model);
        Assert.Equal("base", read.Mode);
        Assert.Equal("fp32", read.Precision);
        Assert.Equal(BundleManifest.CurrentFormat, read.Format);
    }
}
