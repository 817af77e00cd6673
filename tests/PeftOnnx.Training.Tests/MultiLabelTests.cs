using System.Text.Json;
using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Lora;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Json;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Scoring;
using PeftOnnx.Runtime.Sessions;
using PeftOnnx.Runtime.Tokenization;
using PeftOnnx.Training.Data;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Methods.Lora;
using PeftOnnx.Training.Output;
using PeftOnnx.Training.TrainingLoop;
using Xunit.Abstractions;

namespace PeftOnnx.Training.Tests;

/// <summary>
/// Multi-label training end to end on tests/fixtures/debian-works-with (the first rows of ../shared/data's splits):
/// "labels" lists, bad input, per-label threshold tuning, and export parity of the per-label probabilities.
/// </summary>
public sealed class MultiLabelTests(MiniLmFixture miniLm, ITestOutputHelper output) : IClassFixture<MiniLmFixture>, IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Fixture(string split) => TestPaths.Fixture("debian-works-with", $"{split}.jsonl");

    private BertTokenizer Tokenizer() => BertTokenizer.FromFile(miniLm.Base.VocabPath, miniLm.Base.Manifest.Tokenizer);

    [Fact]
    public void Thresholds_maximise_each_labels_f1_on_dev()
    {
        float[][] probabilities = [[0.9f, 0.3f], [0.8f, 0.2f], [0.6f, 0.1f], [0.4f, 0.6f], [0.2f, 0.05f]];
        IReadOnlyList<int>[] gold = [[0], [0], [], [0], []];
        var thresholds = ThresholdTuning.Tune(probabilities, gold, 2);
        // Label 0: keeping the top 4 (3 of 3 positives, one false positive) gives F1 6/7, the best cut; it lies between 0.4 and 0.2.
        Assert.Equal(0.3f, thresholds[0], 5);
        // Label 1 has no positive dev document: F1 cannot choose, so the default stays.
        Assert.Equal(ThresholdTuning.Default, thresholds[1]);
    }

    [Fact]
    public void Documents_with_equal_probabilities_are_kept_or_left_out_together()
    {
        float[][] probabilities = [[0.7f], [0.7f], [0.1f]];
        IReadOnlyList<int>[] gold = [[0], [], []];
        var threshold = ThresholdTuning.Tune(probabilities, gold, 1)[0];
        // The only cuts are above both 0.7s or between 0.7 and 0.1; keeping both gives F1 2/3, the best there is.
        Assert.Equal(0.4f, threshold, 5);
    }

    [Fact]
    public void Reads_labels_lists_and_an_empty_list()
    {
        var rows = TextClassificationData.Read(_dir.File("m.jsonl", "{\"text\": \"mp3 tagger\", \"labels\": [\"audio\", \"file\"]}\n{\"text\": \"a calculator\", \"labels\": []}\n"));
        Assert.Equal(["audio", "file"], rows[0].Labels!);
        Assert.Empty(rows[1].Labels!);
    }

    [Theory]
    [InlineData("{\"text\": \"x\", \"labels\": \"audio\"}", "must be a list of strings")]
    [InlineData("{\"text\": \"x\", \"labels\": [\"audio\", 3]}", "every label must be a non-empty string")]
    [InlineData("{\"text\": \"x\", \"labels\": [\"audio\", \" \"]}", "every label must be a non-empty string")]
    [InlineData("{\"text\": \"x\", \"labels\": [\"audio\", \"audio\"]}", "lists 'audio' twice")]
    public void Bad_labels_lists_are_refused_with_file_and_line(string line, string expected)
    {
        var path = _dir.File("bad.jsonl", "{\"text\": \"ok\", \"labels\": [\"text\"]}\n" + line + "\n");
        var e = Assert.Throws<DatasetFormatException>(() => TextClassificationData.Read(path));
        Assert.Contains("bad.jsonl:2", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Single_label_data_in_multi_label_mode_is_refused()
    {
        var train = _dir.File("single.jsonl", "{\"text\": \"mail server\", \"label\": \"mail\"}\n{\"text\": \"chess\", \"label\": \"games\"}\n");
        var e = Assert.Throws<DatasetFormatException>(() => TaskData.Load(train, train, null, Tokenizer(), 32, 1, multiLabel: true));
        Assert.Contains("single.jsonl:1 has one \"label\" ('mail')", e.Message, StringComparison.Ordinal);
        Assert.Contains("--multi-label", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Multi_label_data_without_the_flag_is_refused()
    {
        var e = Assert.Throws<DatasetFormatException>(() => TaskData.Load(Fixture("train"), Fixture("dev"), null, Tokenizer(), 32, 1));
        Assert.Contains("train.jsonl:1 has a \"labels\" list [file]", e.Message, StringComparison.Ordinal);
        Assert.Contains("train it with --multi-label", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dev_label_not_in_the_training_labels_is_named()
    {
        var dev = _dir.File("dev.jsonl", "{\"text\": \"a font editor\", \"labels\": [\"text\", \"font\"]}\n");
        var e = Assert.Throws<DatasetFormatException>(() => TaskData.Load(Fixture("train"), dev, null, Tokenizer(), 32, 1, multiLabel: true));
        Assert.Contains("'font' (1x)", e.Message, StringComparison.Ordinal);
        Assert.Contains("dev.jsonl:1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Multi_hot_targets_and_empty_label_sets_load()
    {
        var train = _dir.File("t.jsonl", "{\"text\": \"mp3 tagger\", \"labels\": [\"file\", \"audio\"]}\n{\"text\": \"a calculator\", \"labels\": []}\n{\"text\": \"an image viewer\", \"labels\": [\"image\"]}\n");
        var data = TaskData.Load(train, train, null, Tokenizer(), 32, 1, multiLabel: true);
        Assert.True(data.MultiLabel);
        Assert.Equal(["audio", "file", "image"], data.Labels.Names);
        Assert.Equal([0, 1], data.Train[0].LabelIds!);
        Assert.Empty(data.Train[1].LabelIds!);
        var (batch, targets) = BatchCollator.Collate(data.Train, [0, 1, 2], 0, TorchSharp.torch.CPU, data.Labels.Count);
        using var _ = batch;
        using var __ = targets;
        Assert.Equal([3L, 3L], targets.shape);
        Assert.Equal([1f, 1f, 0f, 0f, 0f, 0f, 0f, 0f, 1f], targets.data<float>().ToArray());
    }

    /// <summary>
    /// Trains a LoRA multi-label adapter briefly on the fixture, checks the thresholds saved in training.json, exports it,
    /// and compares the trainer's sigmoid probabilities with ONNX Runtime's "probabilities" output.
    /// </summary>
    [Fact]
    public void Trained_multi_label_adapter_exports_with_its_thresholds_and_matching_probabilities()
    {
        const int maxLength = 32;
        var adapter = _dir.Combine("adapter");
        var report = FineTuningRun.Run(new FineTuningRequest
        {
            BaseDirectory = TestModels.EnsurePulled("minilm-l6"),
            TrainPath = Fixture("train"),
            DevPath = Fixture("dev"),
            TestPath = Fixture("test"),
            MultiLabel = true,
            Method = new LoraMethod(new LoraConfig { R = 4, LoraAlpha = 8, TargetModules = TargetModules.FromNames("query", "value") }),
            MaxLength = maxLength,
            Options = new TrainingOptions { Epochs = 1, BatchSize = 16, LearningRate = 5e-3 },
            OutputDirectory = adapter,
            Device = "cpu",
            Threads = 2,
        }, null, CancellationToken.None);

        var saved = PeftJson.Load<TrainingReport>(Path.Combine(adapter, TrainingReport.FileName));
        Assert.Equal(BundleManifest.MultiLabelProblem, saved.ProblemType);
        Assert.Equal(["audio", "db", "file", "image", "mail", "software:source", "text"], saved.Labels);
        Assert.Equal(7, saved.Thresholds!.Count);
        Assert.All(saved.Thresholds, t => Assert.InRange(t, 0f, 1f));
        Assert.NotNull(report.TestMicroF1);

        var test = TextClassificationData.Read(Fixture("test"));
        using var model = miniLm.Base.CreateClassifier(7, Encoder.Pooling.Pooler, multiLabel: true);
        AdapterLoader.Apply(model, adapter);
        var tokenizer = Tokenizer();
        var examples = test.Select(r => new TokenizedExample(tokenizer.Encode(r.Text, maxLength).Ids, -1, [])).ToList();
        var expected = Evaluator.Probabilities(model, examples, 8, tokenizer.PadId, TorchSharp.torch.CPU);

        var bundle = new BundleExporter().Export(new BundleExportOptions
        {
            BaseDirectory = TestModels.EnsurePulled("minilm-l6"),
            AdapterDirectory = adapter,
            OutputDirectory = _dir.Combine("bundle"),
            Labels = saved.Labels,
        });
        Assert.Equal(BundleManifest.MultiLabelProblem, bundle.Manifest.ProblemType);
        Assert.Equal(saved.Thresholds, bundle.Manifest.Thresholds!);
        using var onnx = OnnxModel.Load(bundle.Directory, new SessionSettings { Device = DeviceKind.Cpu, IntraOpThreads = 1 });
        var scorer = new OnnxTextScorer(onnx, new ScorerOptions { MaxLength = maxLength, Aggregation = WindowAggregation.First });
        var scores = scorer.Score(test.Select(r => r.Text).ToList());

        var diff = expected.Zip(scores, (e, s) => e.Zip(s.Probabilities!, (a, b) => Math.Abs((double)a - b)).Max()).Max();
        output.WriteLine($"max |onnx probabilities - torchsharp sigmoid| over {test.Count} texts x 7 labels: {diff:E2}");
        Assert.True(diff <= 1e-4, $"{diff:E2}");
        for (var i = 0; i < scores.Count; i++)
        {
            var chosen = Enumerable.Range(0, 7).Where(l => scores[i].Probabilities![l] >= saved.Thresholds[l]).Select(l => saved.Labels[l]).Order(StringComparer.Ordinal);
            Assert.Equal(chosen, scores[i].PredictedLabels!.Order(StringComparer.Ordinal));
        }
    }
}
