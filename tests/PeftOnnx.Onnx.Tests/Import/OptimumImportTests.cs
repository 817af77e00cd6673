using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.Models;
using PeftOnnx.Onnx.Import;
using Xunit.Abstractions;

namespace PeftOnnx.Onnx.Tests.Import;

/// <summary>An ONNX folder (model.onnx + config.json + tokenizer, as Optimum exports) imports when its modules map, and names the node that breaks the map otherwise.</summary>
public sealed class OptimumImportTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Torch_exported_onnx_folder_is_kept_and_mapped()
    {
        var baseDir = TestModels.EnsurePulled("minilm-l6");
        var manifest = PeftJson.Load<ModelManifest>(Path.Combine(baseDir, ModelManifest.FileName));
        var source = _temp.Combine("onnx-folder");
        Directory.CreateDirectory(source);
        File.Copy(Path.Combine(baseDir, "model.onnx"), Path.Combine(source, "model.onnx"));
        File.Copy(Path.Combine(baseDir, "vocab.txt"), Path.Combine(source, "vocab.txt"));
        File.WriteAllText(Path.Combine(source, "tokenizer_config.json"), """{"do_lower_case": true, "model_max_length": 256}""");
        TransformersConfig.Write(Path.Combine(source, "config.json"), manifest.Architecture);

        var result = ModelImporter.Import(source, "minilm-onnx", _temp.Combine("models", "minilm-onnx"));

        Assert.Equal("optimum-onnx", result.Manifest.Imported!.Format);
        Assert.Equal(256, result.Manifest.Tokenizer.MaxLength);
        var run = EncoderRun.FromDevTexts(4, 64);
        using var nuget = new InferenceSession(Path.Combine(baseDir, "model.onnx"));
        using var imported = new InferenceSession(Path.Combine(result.ModelDir, "model.onnx"));
        var diff = run.MaxAbsDiff(run.LastHiddenState(nuget), run.LastHiddenState(imported), 384);
        output.WriteLine($"ONNX folder import: max |imported - nuget| last_hidden_state {diff:E2}");
        Assert.True(diff < 1e-6, $"differs by {diff}");
    }

    [Fact]
    public void Unmappable_node_is_named()
    {
        var hf = TinyBert.Write(_temp.Combine("hf"));
        var built = ModelImporter.Import(hf, "tiny", _temp.Combine("built"));
        // The form torch gives a weight it renames, with its bias renamed too: nothing names the module any more.
        var model = OnnxModelFile.Load(Path.Combine(built.ModelDir, "model.onnx"));
        var renames = new Dictionary<string, string> { ["encoder.layer.1.output.dense.weight"] = "1234", ["encoder.layer.1.output.dense.bias"] = "onnx::Add_1235" };
        foreach (var tensor in model.Graph.Initializer.Where(t => renames.ContainsKey(t.Name)))
            tensor.Name = renames[tensor.Name];
        foreach (var node in model.Graph.Node)
        {
            for (var i = 0; i < node.Input.Count; i++)
                node.Input[i] = renames.GetValueOrDefault(node.Input[i], node.Input[i]);
        }
        var source = _temp.Combine("onnx-folder");
        Directory.CreateDirectory(source);
        OnnxModelFile.Save(model, Path.Combine(source, "model.onnx"));
        foreach (var file in new[] { "config.json", "vocab.txt", "tokenizer_config.json" })
            File.Copy(Path.Combine(hf, file), Path.Combine(source, file));
        var matMul = model.Graph.Node.Single(n => n.OpType == "MatMul" && n.Input[1] == "1234").Name;

        var error = Assert.Throws<InvalidDataException>(() => ModelImporter.Import(source, "broken", _temp.Combine("models", "broken")));

        output.WriteLine(error.Message);
        Assert.Contains(matMul, error.Message);
        Assert.Contains("'1234'", error.Message);
        Assert.False(Directory.Exists(_temp.Combine("models")));
    }
}
