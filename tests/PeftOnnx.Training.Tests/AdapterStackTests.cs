using System.Text.Json.Nodes;
using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Bottleneck;
using PeftOnnx.Core.Adapters.Stack;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.SafeTensors;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Runtime.Adapters;
using PeftOnnx.Runtime.Sessions;
using PeftOnnx.Tests;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Methods;
using PeftOnnx.Training.Methods.Bottleneck;
using PeftOnnx.Training.Methods.Stack;
using PeftOnnx.Training.Output;
using PeftOnnx.Training.TrainingLoop;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Tests;

/// <summary>
/// Adapter stacks (AdapterHub's Stack) have no PEFT reference: the TorchSharp trainer's forward is the reference for the
/// ONNX side graph (BottleneckAdapterPass.Stacked), on a right-padded batch of rows of 15, 15, 19 and 3 real tokens.
/// Lower and top adapters are seeded random values (up-projections included), so every parameter matters.
/// </summary>
public sealed class AdapterStackTests(MiniLmFixture miniLm, ITestOutputHelper output) : IClassFixture<MiniLmFixture>
{
    private const double Tolerance = 1e-5;
    private const string BaseName = FrozenAdapterFiles.BaseName;

    [Theory]
    [InlineData(BottleneckConfig.Pfeiffer, 1)]
    [InlineData(BottleneckConfig.Houlsby, 1)]
    [InlineData(BottleneckConfig.Pfeiffer, 2)]
    public void Side_graph_logits_match_the_trainer_and_a_reload(string variant, int depth)
    {
        using var folder = new TempFolder("peftonnx-stack-");
        var (inputs, batch) = MiniLmFixture.RaggedBatch();
        using var _ = batch;
        string[] activations = ["gelu", "swish"];
        var lower = Enumerable.Range(0, depth).Select(k => FrozenAdapterFiles.WriteBottleneck(miniLm, folder.Combine($"lang{k}"), variant, activations[k], k == 0 ? 32 : 16, seed: 100 + k)).ToList();
        var stack = folder.Combine("stack");
        var expected = WriteStack(stack, lower, variant, seed: 7, batch);

        using (var reloaded = miniLm.Base.CreateClassifier(12, Pooling.Pooler))
        {
            AdapterLoader.Apply(reloaded, stack);
            reloaded.eval();
            using var logits = reloaded.forward(batch);
            var reload = FrozenAdapterFiles.MaxDiff(expected, logits.data<float>().ToArray());
            output.WriteLine($"{variant} depth {depth}: trainer after save and reload vs before: max diff {reload:E2}");
            Assert.Equal(0.0, reload);
        }

        var bundle = FrozenAdapterFiles.ExportSide(stack, folder.Combine("bundle"));
        using var side = SideModel.Load(bundle, FrozenAdapterFiles.Cpu, watch: false);
        var diff = FrozenAdapterFiles.MaxDiff(expected, side.Run(inputs, "stack").Values);
        output.WriteLine($"{variant} depth {depth}: max |onnx side - torchsharp| logits {diff:E2}");
        Assert.True(diff <= Tolerance, $"{diff:E2}");
        Assert.Equal(StackConfig.TypeName, side.Side.PeftType);

        // Another stack of adapters of the same shapes binds to the same bundle and gives its own logits.
        var others = Enumerable.Range(0, depth).Select(k => FrozenAdapterFiles.WriteBottleneck(miniLm, folder.Combine($"other{k}"), variant, activations[k], k == 0 ? 32 : 16, seed: 200 + k)).ToList();
        var second = folder.Combine("second");
        var secondExpected = WriteStack(second, others, variant, seed: 8, batch);
        SideBundleExporter.WriteAdapter(bundle, second);
        using var reloadedSide = SideModel.Load(bundle, FrozenAdapterFiles.Cpu, watch: false);
        var secondDiff = FrozenAdapterFiles.MaxDiff(secondExpected, reloadedSide.Run(inputs, "second").Values);
        output.WriteLine($"{variant} depth {depth}: second stack in the same bundle: max diff {secondDiff:E2} (vs the first stack's logits {FrozenAdapterFiles.MaxDiff(expected, secondExpected):E2})");
        Assert.True(secondDiff <= Tolerance, $"{secondDiff:E2}");
        Assert.True(FrozenAdapterFiles.MaxDiff(expected, secondExpected) > 1e-3);
    }

    [Fact]
    public void A_new_stack_starts_as_the_lower_adapter_and_only_the_top_adapter_and_the_head_train()
    {
        using var folder = new TempFolder("peftonnx-stack-init-");
        var lower = FrozenAdapterFiles.WriteBottleneck(miniLm, folder.Combine("lang"), BottleneckConfig.Pfeiffer, "relu", 16, seed: 3);
        var (_, batch) = MiniLmFixture.RaggedBatch();
        using var _b = batch;

        // The lower adapter alone, with the head the stack gets from the same seed.
        using var alone = miniLm.Base.CreateClassifier(12, Pooling.Pooler);
        AdapterLoader.Apply(alone, lower);
        using var model = miniLm.Base.CreateClassifier(12, Pooling.Pooler);
        var method = StackMethod.Create(BottleneckConfig.Pfeiffer, new MethodSettings { StackOn = [lower] }, miniLm.Base.Config);
        method.Apply(model);
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
        Assert.All(trainable, name => Assert.True(name.StartsWith("classifier.", StringComparison.Ordinal) || name.Contains(".adapter.adapters.1.", StringComparison.Ordinal), name));
        Assert.Equal(6 * 4 + 2, trainable.Count); // down/up weight and bias of the top adapter in 6 layers, and the classifier
        using (no_grad())
        {
            foreach (var (name, p) in model.named_parameters().Where(p => p.name.StartsWith("classifier.", StringComparison.Ordinal)))
                p.copy_(alone.named_parameters().First(q => q.name == name).parameter);
        }

        // A new top adapter's up-projection is zero: the stack is the identity on the lower adapter's output, residual included.
        alone.eval();
        model.eval();
        using (inference_mode())
        {
            using var a = alone.forward(batch);
            using var s = model.forward(batch);
            var fresh = FrozenAdapterFiles.MaxDiff(a.data<float>().ToArray(), s.data<float>().ToArray());
            output.WriteLine($"fresh stack vs the lower adapter alone: max diff {fresh:E2}");
            Assert.True(fresh <= 1e-6, $"{fresh:E2}");
        }
    }

    [Fact]
    public void Train_writes_a_self_contained_stack_folder_that_loads_back()
    {
        using var folder = new TempFolder("peftonnx-stack-train-");
        var lower = FrozenAdapterFiles.WriteBottleneck(miniLm, folder.Combine("lang"), BottleneckConfig.Houlsby, "relu", 16, seed: 1);
        var trained = folder.Combine("stack");
        var fixture = (string split) => TestPaths.Fixture("debian-works-with", $"{split}.jsonl");
        FineTuningRun.Run(new FineTuningRequest
        {
            BaseDirectory = TestModels.EnsurePulled("minilm-l6"),
            TrainPath = fixture("train"),
            DevPath = fixture("dev"),
            MultiLabel = true,
            Method = PeftMethods.Create(BottleneckConfig.Houlsby, new MethodSettings { StackOn = [lower], ReductionFactor = 32, NonLinearity = "gelu" }, miniLm.Base.Config),
            MaxLength = 32,
            Options = new TrainingOptions { MaxSteps = 2, BatchSize = 16, LearningRate = 1e-3 },
            OutputDirectory = trained,
            Device = "cpu",
            Threads = 2,
        }, null, CancellationToken.None);

        var config = (StackConfig)PeftAdapterConfig.Load(Path.Combine(trained, PeftAdapterConfig.FileName));
        Assert.Equal(["lang"], config.StackedOn.Select(a => a.Name));
        Assert.Equal((BottleneckConfig.Houlsby, 32, "gelu"), (config.Variant, config.ReductionFactor, config.NonLinearity));
        Assert.Null(PeftAdapterConfig.ReadObject(Path.Combine(trained, PeftAdapterConfig.FileName))["top"]); // derived, not written
        var copy = Path.Combine(trained, FrozenAdapterSet.Folder, "lang");
        Assert.Equal(File.ReadAllBytes(Path.Combine(lower, PeftAdapter.WeightsFileName)), File.ReadAllBytes(Path.Combine(copy, PeftAdapter.WeightsFileName)));
        Assert.Equal(PeftAdapter.Load(lower).WeightsSha256, config.StackedOn[0].Sha256);
        var keys = PeftAdapter.Load(trained).Tensors.Select(t => t.Name).ToList();
        Assert.Contains("base_model.model.bert.encoder.layer.5.attention.output.adapter.adapters.1.up.weight", keys);
        Assert.Contains("base_model.model.classifier.weight", keys);
        Assert.DoesNotContain(keys, k => k.Contains(".adapters.0.", StringComparison.Ordinal)); // the frozen adapter lives in its copy
        Assert.Equal(BottleneckConfig.Houlsby, PeftJson.Load<TrainingReport>(Path.Combine(trained, TrainingReport.FileName)).Method);

        using var reloaded = miniLm.Base.CreateClassifier(7, Pooling.Pooler, multiLabel: true);
        var method = Assert.IsType<StackMethod>(AdapterLoader.Apply(reloaded, trained));
        Assert.Equal(["lang"], method.Lower.Names);
    }

    [Fact]
    public void Bad_stacks_are_refused_naming_the_adapter_and_nothing_is_written()
    {
        using var folder = new TempFolder("peftonnx-stack-bad-");
        var a = FrozenAdapterFiles.WriteBottleneck(miniLm, folder.Combine("a"), BottleneckConfig.Pfeiffer, "relu", 16, seed: 1);
        Exception Refused(string method, params string[] dirs) => Assert.ThrowsAny<Exception>(() => PeftMethods.Create(method, new MethodSettings { StackOn = dirs }, miniLm.Base.Config));

        Expect(Refused(BottleneckConfig.Pfeiffer, folder.Combine("missing")), "stacked-on adapter missing: folder");
        Expect(Refused(BottleneckConfig.Pfeiffer, TestPaths.Fixture("peft", "seqcls_lora_qv_r8")), "stacked-on adapter seqcls_lora_qv_r8");
        Expect(Refused(BottleneckConfig.Pfeiffer, TestPaths.Fixture("peft", "seqcls_lora_qv_r8")), "is a LORA adapter");
        Expect(Refused(BottleneckConfig.Houlsby, a), "stacked-on adapter a is a pfeiffer adapter, but the adapter stacked on it is houlsby");
        Expect(Refused(BottleneckConfig.Pfeiffer, a, FrozenAdapterFiles.WriteBottleneck(miniLm, folder.Combine("x", "a"), BottleneckConfig.Pfeiffer, "relu", 16, seed: 2)), "two stacked-on adapters are named a");
        Expect(Refused("lora", a), "--method lora does not stack");

        // A lower adapter made for another base is refused before anything is trained or written.
        var otherBase = FrozenAdapterFiles.WriteBottleneck(miniLm, folder.Combine("other-base"), BottleneckConfig.Pfeiffer, "relu", 16, seed: 5, baseName: "google-bert/bert-base-uncased");
        var never = folder.Combine("never");
        Expect(Assert.Throws<InvalidDataException>(() => FineTuningRun.Run(new FineTuningRequest
        {
            BaseDirectory = TestModels.EnsurePulled("minilm-l6"),
            TrainPath = TestPaths.Fixture("debian-works-with", "train.jsonl"),
            MultiLabel = true,
            Method = PeftMethods.Create(BottleneckConfig.Pfeiffer, new MethodSettings { StackOn = [otherBase] }, miniLm.Base.Config),
            OutputDirectory = never,
            Device = "cpu",
        }, null, CancellationToken.None)), "stacked-on adapter other-base: ");
        Assert.False(Directory.Exists(never));

        JsonObject Config(params string[] names) => new()
        {
            ["peft_type"] = StackConfig.TypeName,
            ["stacked_on"] = new JsonArray([.. names.Select(n => (JsonNode)new JsonObject { ["name"] = n, ["sha256"] = new string('0', 64) })]),
        };
        Expect(Assert.Throws<InvalidDataException>(() => PeftAdapterConfig.Parse(Config(), "none.json")), "at least 1 adapter to stack on, got 0");
        Expect(Assert.Throws<InvalidDataException>(() => PeftAdapterConfig.Parse(Config("a", "a"), "dup.json")), "names a 2 times");
        Expect(Assert.Throws<InvalidDataException>(() => PeftAdapterConfig.Parse(Config("../a"), "escape.json")), "\"../a\" is not a plain folder name");

        // A stack folder whose copy of the lower adapter was edited or removed exports nothing.
        var (_, batch) = MiniLmFixture.RaggedBatch();
        using var _b = batch;
        var stack = folder.Combine("stack");
        WriteStack(stack, [a], BottleneckConfig.Pfeiffer, seed: 9, batch);
        var copy = Path.Combine(stack, FrozenAdapterSet.Folder, "a", PeftAdapter.WeightsFileName);
        var edited = File.ReadAllBytes(copy);
        edited[^1] ^= 1;
        File.WriteAllBytes(copy, edited);
        Expect(Assert.Throws<InvalidDataException>(() => FrozenAdapterFiles.ExportSide(stack, folder.Combine("bundle-edited"))), "stacked-on adapter a has sha256");
        Assert.False(Directory.Exists(folder.Combine("bundle-edited")));
        Directory.Delete(Path.GetDirectoryName(copy)!, recursive: true);
        Expect(Assert.Throws<DirectoryNotFoundException>(() => FrozenAdapterFiles.ExportSide(stack, folder.Combine("bundle-missing"))), "stacked-on adapter a is missing");
        Assert.False(Directory.Exists(folder.Combine("bundle-missing")));
    }

    private void Expect(Exception e, string text)
    {
        output.WriteLine($"{e.GetType().Name}: {e.Message}");
        Assert.Contains(text, e.Message, StringComparison.Ordinal);
    }

    /// <summary>A relu top adapter (width 48) stacked on <paramref name="lower"/> with seeded random weights and head; returns the trainer's logits on <paramref name="batch"/>.</summary>
    private float[] WriteStack(string directory, IReadOnlyList<string> lower, string variant, int seed, EncoderBatch batch)
    {
        using var model = miniLm.Base.CreateClassifier(12, Pooling.Pooler);
        var method = StackMethod.Create(variant, new MethodSettings { StackOn = lower, ReductionFactor = 8, NonLinearity = "relu" }, miniLm.Base.Config);
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
