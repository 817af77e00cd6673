using Microsoft.Extensions.Logging.Abstractions;
using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.Models;
using PeftOnnx.Core.SafeTensors;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Scoring;
using PeftOnnx.Runtime.Sessions;
using Xunit.Abstractions;

namespace PeftOnnx.Onnx.Tests.Export;

/// <summary>The appended head: mean pooling for bases without a pooler output, and the runtime serving a classifier bundle.</summary>
public sealed class ClassificationHeadTests(ITestOutputHelper output) : IDisposable
{
    private const string Case = "seqcls_lora_qv_r8";
    private readonly TempFolder _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void Mean_pooling_head_is_softmax_of_classifier_over_masked_mean()
    {
        // A base folder whose manifest has no pooler output (like arctic-xs): same model file, linked.
        var baseDir = Directory.CreateDirectory(_tmp.Combine("no-pooler")).FullName;
        foreach (var file in new[] { "model.onnx", "vocab.txt" })
            File.CreateSymbolicLink(Path.Combine(baseDir, file), Path.Combine(AdapterFixtures.BaseModelDirectory, file));
        var manifest = PeftJson.Load<ModelManifest>(Path.Combine(AdapterFixtures.BaseModelDirectory, ModelManifest.FileName));
        PeftJson.Save(Path.Combine(baseDir, ModelManifest.FileName), manifest with { Outputs = new Dictionary<string, string> { ["last_hidden_state"] = "last_hidden_state" } });

        var head = new BundleExporter().Export(new BundleExportOptions { BaseDirectory = baseDir, AdapterDirectory = AdapterFixtures.Golden(Case), OutputDirectory = _tmp.Combine("head") });
        Assert.Equal("mean", head.Manifest.Pooling);
        Assert.Contains(head.Warnings, w => w.Contains("no pooler output", StringComparison.Ordinal));

        // The same LoRA without its classifier gives the encoder's hidden states.
        var adapter = PeftAdapter.Load(AdapterFixtures.Golden(Case));
        var encoderOnly = _tmp.Combine("encoder-only");
        PeftAdapterWriter.Write(encoderOnly, adapter.Config with { ModulesToSave = null },
            adapter.Tensors.Where(t => t.Key.InEncoder).Select(t => SafeTensor.FromFloat32(t.Name, Array.ConvertAll(t.Data, v => (float)v), t.Shape)));
        var features = new BundleExporter().Export(new BundleExportOptions { BaseDirectory = baseDir, AdapterDirectory = encoderOnly, OutputDirectory = _tmp.Combine("features") });

        var inputs = GoldenReference.Load(Case);
        var hidden = OrtRunner.Run(Path.Combine(features.Directory, "model.onnx"), inputs, "last_hidden_state")["last_hidden_state"];
        var actual = OrtRunner.Run(Path.Combine(head.Directory, "model.onnx"), inputs, "logits", "probabilities");
        var w = adapter.Get("base_model.model.classifier.weight").AsMatrix();
        var b = adapter.Get("base_model.model.classifier.bias").Data;
        int batch = (int)inputs.InputShape[0], seq = (int)inputs.InputShape[1], width = w.Cols, labels = w.Rows;
        var expected = new float[batch * labels];
        for (var row = 0; row < batch; row++)
        {
            var pooled = new double[width];
            var count = 0.0;
            for (var t = 0; t < seq; t++)
            {
                if (inputs.AttentionMask[(row * seq) + t] == 0)
                    continue;
                count++;
                for (var d = 0; d < width; d++)
                    pooled[d] += hidden[(((row * seq) + t) * width) + d];
            }
            for (var j = 0; j < labels; j++)
                expected[(row * labels) + j] = (float)(b[j] + Enumerable.Range(0, width).Sum(d => w[j, d] * pooled[d] / count));
        }
        var diff = GoldenReference.MaxAbsDiff(actual["logits"], expected);
        output.WriteLine($"mean-pooling head: max |ORT logits - C# mean·classifier| = {diff:E2}");
        Assert.True(diff <= 1e-4, $"logits differ by {diff:E3}");
    }

    [Fact]
    public void Runtime_scores_text_with_the_exported_bundle()
    {
        string[] labels = ["admin", "database", "editors", "electronics", "games", "graphics", "mail", "math", "net", "science", "sound", "video"];
        var bundle = new BundleExporter().Export(new BundleExportOptions
        {
            BaseDirectory = AdapterFixtures.BaseModelDirectory,
            AdapterDirectory = AdapterFixtures.Golden(Case),
            OutputDirectory = _tmp.Combine("served"),
            Labels = labels,
        });
        using var model = OnnxModel.Load(bundle.Directory, new SessionSettings { Device = DeviceKind.Cpu, IntraOpThreads = 2 }, NullLogger.Instance);
        Assert.True(model.IsClassifier);
        var scores = new OnnxTextScorer(model).Score(["GNU Emacs, the extensible text editor", "chess engine with a graphical board"]);
        foreach (var score in scores)
        {
            Assert.Contains(score.Label, labels);
            Assert.Equal(12, score.Probabilities!.Length);
            Assert.Equal(1.0, score.Probabilities.Sum(), 4);
            Assert.Equal(score.Probabilities.Max(), score.Score);
        }
    }
}
