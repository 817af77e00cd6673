using System.Text.Json.Nodes;
using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Bottleneck;
using PeftOnnx.Core.Adapters.Fusion;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.SafeTensors;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Runtime.Adapters;
using PeftOnnx.Runtime.Sessions;
using PeftOnnx.Tests;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Methods;
using PeftOnnx.Training.Methods.Bottleneck;
using PeftOnnx.Training.Methods.Fusion;
using PeftOnnx.Training.Output;
using PeftOnnx.Training.TrainingLoop;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Tests;

/// <summary>
/// AdapterFusion has no PEFT reference: the TorchSharp trainer's forward (AdapterHub's BertFusion semantics) is the
/// reference for the ONNX side graph (AdapterFusionPass), on a right-padded batch of rows of 15, 15, 19 and 3 real
/// tokens. Bottleneck adapters and fusion weights are seeded random values, so every parameter matters.
/// </summary>
public sealed class AdapterFusionTests(MiniLmFixture miniLm, ITestOutputHelper output) : IClassFixture<MiniLmFixture>
{
    private const double Tolerance = 1e-5;
    private const string BaseName = FrozenAdapterFiles.BaseName;

    [Theory]
    [InlineData(BottleneckConfig.Pfeiffer, 3)]
    [InlineData(BottleneckConfig.Houlsby, 2)]
    public void Side_graph_logits_match_the_trainer_and_a_reload(string variant, int n)
    {
        using var folder = new TempFolder("peftonnx-fusion-");
        var (inputs, batch) = MiniLmFixture.RaggedBatch();
        using var _ = batch;
        string[] activations = ["relu", "gelu", "swish"];
        var adapters = Enumerable.Range(0, n).Select(k => FrozenAdapterFiles.WriteBottleneck(miniLm, folder.Combine($"task{k}"), variant, activations[k], k == 1 ? 32 : 16, seed: 100 + k)).ToList();
        var fusion = folder.Combine("fusion");
        var expected = WriteFusion(fusion, adapters, seed: 7, batch);

        using (var reloaded = miniLm.Base.CreateClassifier(12, Pooling.Pooler))
        {
            AdapterLoader.Apply(reloaded, fusion);
            reloaded.eval();
            using var logits = reloaded.forward(batch);
            var reload = FrozenAdapterFiles.MaxDiff(expected, logits.data<float>().ToArray());
            output.WriteLine($"{variant} N={n}: trainer after save and reload vs before: max diff {reload:E2}");
            Assert.Equal(0.0, reload);
        }

        var bundle = FrozenAdapterFiles.ExportSide(fusion, folder.Combine("bundle"));
        using var side = SideModel.Load(bundle, FrozenAdapterFiles.Cpu, watch: false);
        var diff = FrozenAdapterFiles.MaxDiff(expected, side.Run(inputs, "fusion").Values);
        output.WriteLine($"{variant} N={n}: max |onnx side - torchsharp| logits {diff:E2}");
        Assert.True(diff <= Tolerance, $"{diff:E2}");
        Assert.Equal(FusionConfig.TypeName, side.Side.PeftType);

        // A second fusion of other adapters of the same shapes binds to the same bundle and gives its own logits.
        var others = Enumerable.Range(0, n).Select(k => FrozenAdapterFiles.WriteBottleneck(miniLm, folder.Combine($"other{k}"), variant, activations[k], k == 1 ? 32 : 16, seed: 200 + k)).ToList();
        var second = folder.Combine("second");
        var secondExpected = WriteFusion(second, others, seed: 8, batch);
        SideBundleExporter.WriteAdapter(bundle, second);
        using var reloadedSide = SideModel.Load(bundle, FrozenAdapterFiles.Cpu, watch: false);
        var secondDiff = FrozenAdapterFiles.MaxDiff(secondExpected, reloadedSide.Run(inputs, "second").Values);
        output.WriteLine($"{variant} N={n}: second fusion in the same bundle: max diff {secondDiff:E2} (vs the first fusion's logits {FrozenAdapterFiles.MaxDiff(expected, secondExpected):E2})");
        Assert.True(secondDiff <= Tolerance, $"{secondDiff:E2}");
        Assert.True(FrozenAdapterFiles.MaxDiff(expected, secondExpected) > 1e-3);
    }

    [Fact]
    public void Only_the_fusion_and_the_head_train_and_the_value_matrix_starts_at_the_identity()
    {
        using var folder = new TempFolder("peftonnx-fusion-init-");
        var adapters = Enumerable.Range(0, 2).Select(k => FrozenAdapterFiles.WriteBottleneck(miniLm, folder.Combine($"task{k}"), BottleneckConfig.Pfeiffer, "relu", 16, seed: k)).ToList();
        using var model = miniLm.Base.CreateClassifier(12, Pooling.Pooler);
        var method = new FusionMethod(FusionMethod.FusedAdapters(adapters), FusionSettings.Dynamic);
        method.Apply(model);
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
        Assert.All(trainable, name => Assert.True(name.StartsWith("classifier.", StringComparison.Ordinal) || name.Contains(".adapter.fusion.", StringComparison.Ordinal), name));
        Assert.Equal(6 * 5 + 2, trainable.Count); // query/key weight+bias and value weight in 6 layers, and the classifier

        var value = model.named_parameters().First(p => p.name.EndsWith("layer.0.output.adapter.fusion.value.weight", StringComparison.Ordinal)).parameter;
        Assert.Equal(1f, value[0, 0].item<float>());
        Assert.Equal(1e-6f, value[0, 1].item<float>());
        // AdapterHub's regularization 0.01·Σ(I − V)² over the 6 layers: 384·383 off-diagonal entries of 1e-6 each.
        var penalty = model.modules().OfType<IRegularizedModule>().Select(m => m.Penalty()!.item<float>()).Sum();
        output.WriteLine($"initial fusion penalty {penalty:E3}");
        Assert.Equal(6 * 0.01 * 384 * 383 * 1e-12, penalty, 1e-12);
    }

    [Fact]
    public void Train_writes_a_self_contained_fusion_folder()
    {
        using var folder = new TempFolder("peftonnx-fusion-train-");
        var adapters = Enumerable.Range(0, 2).Select(k => FrozenAdapterFiles.WriteBottleneck(miniLm, folder.Combine($"task{k}"), BottleneckConfig.Pfeiffer, "relu", 16, seed: k)).ToList();
        var trained = folder.Combine("fusion");
        var fixture = (string split) => TestPaths.Fixture("debian-works-with", $"{split}.jsonl");
        FineTuningRun.Run(new FineTuningRequest
        {
            BaseDirectory = TestModels.EnsurePulled("minilm-l6"),
            TrainPath = fixture("train"),
            DevPath = fixture("dev"),
            MultiLabel = true,
            Method = PeftMethods.Create("fusion", new MethodSettings { Adapters = adapters }, miniLm.Base.Config),
            MaxLength = 32,
            Options = new TrainingOptions { MaxSteps = 2, BatchSize = 16, LearningRate = 1e-3 },
            OutputDirectory = trained,
            Device = "cpu",
            Threads = 2,
        }, null, CancellationToken.None);

        var config = (FusionConfig)PeftAdapterConfig.Load(Path.Combine(trained, PeftAdapterConfig.FileName));
        Assert.Equal(["task0", "task1"], config.Adapters.Select(a => a.Name));
        for (var k = 0; k < 2; k++)
        {
            var copy = Path.Combine(trained, FrozenAdapterSet.Folder, $"task{k}");
            Assert.Equal(File.ReadAllBytes(Path.Combine(adapters[k], PeftAdapter.WeightsFileName)), File.ReadAllBytes(Path.Combine(copy, PeftAdapter.WeightsFileName)));
            Assert.Equal(PeftAdapter.Load(adapters[k]).WeightsSha256, config.Adapters[k].Sha256);
        }
        var keys = PeftAdapter.Load(trained).Tensors.Select(t => t.Name).ToList();
        Assert.Contains("base_model.model.bert.encoder.layer.5.output.adapter.fusion.value.weight", keys);
        Assert.Contains("base_model.model.classifier.weight", keys);
        Assert.DoesNotContain(keys, k => k.Contains(".adapters.", StringComparison.Ordinal)); // the frozen adapters live in their copies
        Assert.True(File.Exists(Path.Combine(trained, TrainingReport.FileName)));
        Assert.Equal("fusion", PeftJson.Load<TrainingReport>(Path.Combine(trained, TrainingReport.FileName)).Method);
    }

    [Fact]
    public void Bad_fusions_are_refused_naming_the_adapter_and_nothing_is_written()
    {
        using var folder = new TempFolder("peftonnx-fusion-bad-");
        var a = FrozenAdapterFiles.WriteBottleneck(miniLm, folder.Combine("a"), BottleneckConfig.Pfeiffer, "relu", 16, seed: 1);
        var b = FrozenAdapterFiles.WriteBottleneck(miniLm, folder.Combine("b"), BottleneckConfig.Pfeiffer, "relu", 16, seed: 2);
        MethodSettings With(params string[] dirs) => new() { Adapters = dirs };
        Exception Refused(params string[] dirs) => Assert.ThrowsAny<Exception>(() => PeftMethods.Create("fusion", With(dirs), miniLm.Base.Config));

        Expect(Refused(a), "at least 2 adapters, got 1");
        Expect(Refused(a, FrozenAdapterFiles.WriteBottleneck(miniLm, folder.Combine("x", "a"), BottleneckConfig.Pfeiffer, "relu", 16, seed: 3)), "two fused adapters are named a");
        Expect(Refused(a, folder.Combine("missing")), "does not exist");
        Expect(Refused(a, FrozenAdapterFiles.WriteBottleneck(miniLm, folder.Combine("houlsby"), BottleneckConfig.Houlsby, "relu", 16, seed: 4)), "houlsby adapter but a is pfeiffer");
        Expect(Refused(a, TestPaths.Fixture("peft", "seqcls_lora_qv_r8")), "is a LORA adapter");
        Expect(Refused(a, FrozenAdapterFiles.WriteBottleneck(miniLm, folder.Combine("other-base"), BottleneckConfig.Pfeiffer, "relu", 16, seed: 5, baseName: "google-bert/bert-base-uncased")), "must share their base");

        JsonObject Config(params string[] names) => new()
        {
            ["peft_type"] = FusionConfig.TypeName,
            ["adapters"] = new JsonArray([.. names.Select(n => (JsonNode)new JsonObject { ["name"] = n, ["sha256"] = new string('0', 64) })]),
        };
        Expect(Assert.Throws<InvalidDataException>(() => PeftAdapterConfig.Parse(Config("a"), "one.json")), "at least 2 adapters to fuse, got 1 (a)");
        Expect(Assert.Throws<InvalidDataException>(() => PeftAdapterConfig.Parse(Config("a", "a"), "dup.json")), "names a 2 times");
        Expect(Assert.Throws<InvalidDataException>(() => PeftAdapterConfig.Parse(Config("a", "../b"), "escape.json")), "\"../b\" is not a plain folder name");

        // A fusion folder whose copy of an adapter was removed or edited exports nothing.
        var (inputs, batch) = MiniLmFixture.RaggedBatch();
        using var _ = batch;
        var fusion = folder.Combine("fusion");
        WriteFusion(fusion, [a, b], seed: 9, batch);
        var copy = Path.Combine(fusion, FrozenAdapterSet.Folder, "b", PeftAdapter.WeightsFileName);
        var original = File.ReadAllBytes(copy);
        var edited = (byte[])original.Clone();
        edited[^1] ^= 1;
        File.WriteAllBytes(copy, edited);
        Expect(Assert.Throws<InvalidDataException>(() => FrozenAdapterFiles.ExportSide(fusion, folder.Combine("bundle-edited"))), "fused adapter b has sha256");
        Assert.False(Directory.Exists(folder.Combine("bundle-edited")));
        Directory.Delete(Path.GetDirectoryName(copy)!, recursive: true);
        Expect(Assert.Throws<DirectoryNotFoundException>(() => FrozenAdapterFiles.ExportSide(fusion, folder.Combine("bundle-missing"))), "fused adapter b is missing");
        Assert.False(Directory.Exists(folder.Combine("bundle-missing")));
        Assert.NotNull(inputs);
    }

    private void Expect(Exception e, string text)
    {
        output.WriteLine($"{e.GetType().Name}: {e.Message}");
        Assert.Contains(text, e.Message, StringComparison.Ordinal);
    }

    /// <summary>A fusion of <paramref name="adapters"/> with seeded random fusion weights and head; returns the trainer's logits on <paramref name="batch"/>.</summary>
    private float[] WriteFusion(string directory, IReadOnlyList<string> adapters, int seed, EncoderBatch batch)
    {
        using var model = miniLm.Base.CreateClassifier(12, Pooling.Pooler);
        var method = new FusionMethod(FusionMethod.FusedAdapters(adapters), FusionSettings.Dynamic);
        method.Apply(model);
        FrozenAdapterFiles.Randomise(model, seed);
        FrozenAdapterFiles.Write(directory, model, method, BaseName);
        method.WriteFolder(directory);
        model.eval();
        using (inference_mode())
        using (var logits = model.forward(batch))
            return logits.data<float>().ToArray();
    }
}
