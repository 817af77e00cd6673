using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.Models;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Scoring;
using PeftOnnx.Runtime.Sessions;
using PeftOnnx.Runtime.Tests.Documents;
using PeftOnnx.Tests;

namespace PeftOnnx.Runtime.Tests.Scoring;

/// <summary>
/// The classification path (bundle.json, class scores, softmax, window aggregation) on a real graph: a bundle
/// over minilm-l6 whose "logits" output is mapped to the pooler output "924", i.e. 384 "classes".
/// </summary>
public sealed class ClassifierBundleTests : IDisposable
{
    private readonly TempFolder _folder = new();

    private string MakeBundle(int labelCount, string logitsOutput = "924")
    {
        var minilm = TestModels.EnsurePulled("minilm-l6");
        var dir = Path.Combine(_folder.Path, $"bundle-{labelCount}");
        Directory.CreateDirectory(dir);
        BundleCopy.File(Path.Combine(minilm, "model.onnx"), Path.Combine(dir, "model.onnx"));
        BundleCopy.File(Path.Combine(minilm, "vocab.txt"), Path.Combine(dir, "vocab.txt"));
        PeftJson.Save(Path.Combine(dir, BundleManifest.FileName), new BundleManifest
        {
            Name = "pooler-as-logits",
            Task = BundleTask.SequenceClassification,
            Tokenizer = new TokenizerSettings { MaxLength = 32 },
            Labels = Enumerable.Range(0, labelCount).Select(i => $"dim{i}").ToList(),
            Outputs = new Dictionary<string, string> { ["logits"] = logitsOutput },
            Mode = "merged",
            Provenance = new BundleProvenance { BaseModel = "minilm-l6", AdapterSha256 = "abcdef0123456789" },
        });
        return dir;
    }

    [Fact]
    public void Classifier_bundle_gives_softmax_over_its_labels()
    {
        using var model = OnnxModel.Load(MakeBundle(384), new SessionSettings { Device = DeviceKind.Cpu });
        Assert.True(model.IsClassifier);
        Assert.Equal("pooler-as-logits@abcdef012345", model.ModelId);
        var scorer = new OnnxTextScorer(model, new ScorerOptions { ZeroShotLabels = ["ignored", "by classifiers"] });
        Assert.Equal(384, scorer.Labels!.Count);

        var texts = new[] { "a short text", string.Join(' ', Enumerable.Repeat("a much longer text that needs several windows", 12)) };
        var scores = scorer.Score(texts);

        Assert.Equal(1, scores[0].Chunks);
        Assert.True(scores[1].Chunks > 1);
        foreach (var score in scores)
        {
            Assert.Null(score.Embedding);
            var probabilities = score.Probabilities!;
            Assert.Equal(1.0, probabilities.Sum(), 4);
            var best = Array.IndexOf(probabilities, probabilities.Max());
            Assert.Equal($"dim{best}", score.Label);
            Assert.Equal(probabilities[best], score.Score);
        }

        // One window: the probabilities are the softmax of the raw "logits" row.
        var batch = PeftOnnx.Runtime.Tokenization.TokenBatch.Create([model.Tokenizer.Encode(texts[0], 32)], model.Tokenizer.PadId);
        var expected = Softmax.Of(model.ClassScores(batch)[0]);
        Assert.Equal(expected, scores[0].Probabilities!);
    }

    [Fact]
    public void Label_count_that_does_not_match_the_output_is_named()
    {
        // found at load: loading runs one sequence of the bundle's max_length
        var error = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(MakeBundle(3), new SessionSettings { Device = DeviceKind.Cpu }));
        Assert.Contains("outputs 384 class scores but bundle.json lists 3 labels", error.Message);
    }

    [Fact]
    public void Output_mapping_to_a_missing_output_is_named()
    {
        var error = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(MakeBundle(3, "logits_out"), new SessionSettings { Device = DeviceKind.Cpu }));
        Assert.Contains("maps logits to 'logits_out'", error.Message);
    }

    public void Dispose() => _folder.Dispose();
}
