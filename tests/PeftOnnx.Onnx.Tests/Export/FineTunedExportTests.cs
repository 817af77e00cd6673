using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.SafeTensors;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Onnx.Modules;

namespace PeftOnnx.Onnx.Tests.Export;

/// <summary>
/// Exporting a full fine-tune (a transformers folder, as `train --method full|probe` writes it): its encoder weights
/// replace the base graph's, its classifier becomes the head, and incomplete or mismatched folders are refused.
/// </summary>
public sealed class FineTunedExportTests : IDisposable
{
    private const string Query = "encoder.layer.0.attention.self.query.weight";
    private readonly TempFolder _tmp = new();

    public void Dispose() => _tmp.Dispose();

    /// <summary>The base encoder's own weights under bert.…, one changed, and a 3-label classifier.</summary>
    private string WriteFolder(Action<Dictionary<string, (float[] Data, long[] Shape)>>? edit = null)
    {
        var state = HfStateDict.FromModel(MiniLm.Clone()).ToDictionary(p => p.Key, p => (p.Value.Data.ToArray(), p.Value.Shape));
        state[Query].Item1[5] += 0.25f;
        edit?.Invoke(state);
        var tensors = state.Select(p => SafeTensor.FromFloat32("bert." + p.Key, p.Value.Item1, p.Value.Shape)).ToList();
        tensors.Add(SafeTensor.FromFloat32("classifier.weight", [.. Enumerable.Range(0, 3 * 384).Select(i => (i % 7) * 0.01f)], 3, 384));
        tensors.Add(SafeTensor.FromFloat32("classifier.bias", [0.1f, 0.2f, 0.3f], 3));
        var folder = _tmp.Combine("full-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(folder);
        SafeTensorWriter.Write(Path.Combine(folder, FineTunedModelFolder.WeightsFile), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        File.WriteAllText(Path.Combine(folder, FineTunedModelFolder.ConfigFile), """{"architectures": ["BertForSequenceClassification"], "id2label": {"0": "a", "1": "b", "2": "c"}}""");
        return folder;
    }

    private static BundleExportOptions Options(string folder, string output) => new()
    {
        BaseDirectory = AdapterFixtures.BaseModelDirectory, AdapterDirectory = folder, OutputDirectory = output, Precision = "fp32", Quantize = "none",
        ClsOnlyLastLayer = false, // keeps the last layer's key and value weights, so every weight can be compared by name
    };

    [Fact]
    public void Weights_replace_the_base_graphs_and_the_classifier_becomes_the_head()
    {
        var output = _tmp.Combine("bundle");
        var result = new BundleExporter().Export(Options(WriteFolder(), output));

        Assert.Equal(["a", "b", "c"], result.Manifest.Labels);
        Assert.Equal("FULL_FINE_TUNE", PeftJson.Load<BundleManifest>(Path.Combine(output, BundleManifest.FileName)).Provenance.PeftType);
        var exported = HfStateDict.FromOnnx(Path.Combine(output, "model.onnx"));
        var original = HfStateDict.FromModel(MiniLm.Model);
        Assert.Equal(original[Query].Data[5] + 0.25f, exported[Query].Data[5]);
        var unchanged = original.Keys.Where(k => k != Query).ToList();
        Assert.All(unchanged, k => Assert.Equal(original[k].Data, exported[k].Data));
    }

    [Fact]
    public void A_folder_missing_an_encoder_parameter_is_refused_by_name_and_leaves_nothing()
    {
        var folder = WriteFolder(state => state.Remove("encoder.layer.3.output.dense.bias"));
        var output = _tmp.Combine("bundle");
        var e = Assert.Throws<InvalidDataException>(() => new BundleExporter().Export(Options(folder, output)));
        Assert.Contains("bert.encoder.layer.3.output.dense.bias", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void A_wrong_shape_shows_both_shapes()
    {
        var folder = WriteFolder(state => state[Query] = (new float[384 * 10], [10, 384]));
        var e = Assert.Throws<InvalidDataException>(() => new BundleExporter().Export(Options(folder, _tmp.Combine("bundle"))));
        Assert.Contains("[10, 384]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[384, 384]", e.Message, StringComparison.Ordinal);
    }
}
