using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.Models;
using PeftOnnx.Onnx.Import;
using PeftOnnx.Onnx.Modules;
using PeftOnnx.Onnx.Passes.Fusions;
using Xunit.Abstractions;

namespace PeftOnnx.Onnx.Tests.Import;

/// <summary>
/// A NuGet base model written out as a transformers folder (its state dict recovered from the ONNX, config.json,
/// vocab.txt) and imported back computes the same last_hidden_state, and its graph has the NuGet graph's form.
/// </summary>
public sealed class ImportRoundTripTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("minilm-l6")]
    [InlineData("arctic-xs")]
    public void Imported_model_matches_the_nuget_model(string name)
    {
        var baseDir = TestModels.EnsurePulled(name);
        var manifest = PeftJson.Load<ModelManifest>(Path.Combine(baseDir, ModelManifest.FileName));
        var nugetOnnx = Path.Combine(baseDir, "model.onnx");
        var state = HfStateDict.FromOnnx(nugetOnnx);
        using var temp = new TempFolder();
        TransformersFolder.Write(temp.Combine("hf"), manifest.Architecture, state, File.ReadAllLines(Path.Combine(baseDir, "vocab.txt")), lowercase: true);

        var result = ModelImporter.Import(temp.Combine("hf"), name + "-imported", temp.Combine("models", name + "-imported"));

        Assert.Equal(["model.json", "model.onnx", "vocab.txt"], Directory.GetFiles(result.ModelDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(File.ReadAllLines(Path.Combine(baseDir, "vocab.txt")), File.ReadAllLines(Path.Combine(result.ModelDir, "vocab.txt")));
        var imported = PeftJson.Load<ModelManifest>(Path.Combine(result.ModelDir, ModelManifest.FileName));
        Assert.Equal(manifest.Architecture with { Pooler = imported.Architecture.Pooler }, imported.Architecture);
        Assert.All(imported.Files, f => Assert.Equal(PeftOnnx.Core.Hashing.FileSha256.Of(Path.Combine(result.ModelDir, f.Name)), f.Sha256));

        var run = EncoderRun.FromDevTexts(16, 128);
        using var nuget = new InferenceSession(nugetOnnx);
        using var mine = new InferenceSession(Path.Combine(result.ModelDir, "model.onnx"));
        var diff = run.MaxAbsDiff(run.LastHiddenState(nuget), run.LastHiddenState(mine), manifest.Architecture.Hidden);
        output.WriteLine($"{name}: max |imported - nuget| last_hidden_state over {run.Batch}x{run.Sequence} tokens: {diff:E2}");
        Assert.True(diff < 1e-5, $"last_hidden_state differs by {diff}");

        // Same module map, and the fusions find in it what they find in the NuGet graph.
        var ours = OnnxModelFile.Load(Path.Combine(result.ModelDir, "model.onnx"));
        var theirs = OnnxModelFile.Load(nugetOnnx);
        Assert.Equal(ModuleMap.Build(theirs).Linears.Select(l => (l.Name, l.Layout, l.InFeatures, l.OutFeatures)), ModuleMap.Build(ours).Linears.Select(l => (l.Name, l.Layout, l.InFeatures, l.OutFeatures)));
        var fusedTheirs = TransformerFusion.Apply(theirs).Select(r => (r.Pass, r.Changed)).ToList();
        var fusedOurs = TransformerFusion.Apply(ours).Select(r => (r.Pass, r.Changed)).ToList();
        output.WriteLine(string.Join("\n", fusedOurs));
        Assert.Equal(fusedTheirs, fusedOurs);
    }
}
