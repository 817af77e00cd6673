using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.GatedPrompt;
using PeftOnnx.Core.Adapters.LoReft;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.SafeTensors;
using PeftOnnx.Onnx;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Runtime.Adapters;
using PeftOnnx.Runtime.Sessions;
using PeftOnnx.Tests;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Methods;
using PeftOnnx.Training.Methods.GatedPrompt;
using PeftOnnx.Training.Methods.LoReft;
using PeftOnnx.Training.TrainingLoop;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Tests;

/// <summary>
/// LoReFT and gated prompts have no PEFT reference: the TorchSharp trainer's forward is the reference for the ONNX side
/// graphs (LoReftPass, GatedPromptPass), on a right-padded batch of rows of 15, 15, 19 and 3 real tokens; each bundle is
/// exported with the [CLS]-only last layer (the default) and with the full last layer (--full-last-layer).
/// </summary>
public sealed class RepresentationSideParityTests(MiniLmFixture miniLm, ITestOutputHelper output) : IClassFixture<MiniLmFixture>
{
    private const double Tolerance = 1e-5;

    public static TheoryData<string, int> SideCases => new()
    {
        { "loreft-tied-r4", 1 },
        { "loreft-untied-r2-f2l2", 2 },
        { "gated-prompt-10x6", 3 },
        { "gated-prompt-4x3", 4 },
    };

    [Theory]
    [MemberData(nameof(SideCases))]
    public void Side_graph_logits_match_the_trainer(string tenant, int seed)
    {
        using var folder = new TempFolder("peftonnx-reft-");
        var (inputs, batch) = MiniLmFixture.RaggedBatch();
        using var _ = batch;
        var expected = WriteTenant(folder.Path, tenant, seed, batch);
        var clsOnly = Export(folder.Path, SideGraphManifest.SideForm, tenant);
        var full = Export(folder.Path, SideGraphManifest.SideForm, clsOnlyLastLayer: false, tenant);
        using var pruned = SideModel.Load(clsOnly, Cpu, watch: false);
        using var everyRow = SideModel.Load(full, Cpu, watch: false);
        var (prunedLogits, fullLogits) = (pruned.Run(inputs, tenant).Values, everyRow.Run(inputs, tenant).Values);
        var (diff, diffFull, vsFull) = (MaxDiff(expected, prunedLogits), MaxDiff(expected, fullLogits), MaxDiff(fullLogits, prunedLogits));
        output.WriteLine($"{tenant}: max |onnx side - torchsharp| logits: [CLS]-only last layer {diff:E2}, full last layer {diffFull:E2}; [CLS]-only vs full {vsFull:E2}");
        Assert.True(diff <= Tolerance, $"{diff:E2}");
        Assert.True(diffFull <= Tolerance, $"{diffFull:E2}");
        Assert.True(vsFull <= Tolerance, $"{vsFull:E2}");
    }

    [Fact]
    public void Mixed_batch_of_lora_loreft_and_gated_prompt_tenants_equals_each_tenant_alone()
    {
        using var folder = new TempFolder("peftonnx-reft-mixed-");
        var (inputs, batch) = MiniLmFixture.RaggedBatch();
        using var _ = batch;
        string[] tenants = ["lora-r4", "loreft-untied-r2-f2l2", "gated-prompt-10x6"];
        var expected = tenants.Select((t, i) => WriteTenant(folder.Path, t, 10 + i, batch)).ToList();
        var bundle = Export(folder.Path, SideGraphManifest.MixedForm, tenants);
        var full = Export(folder.Path, SideGraphManifest.MixedForm, clsOnlyLastLayer: false, tenants);
        // A LoReFT adapter of lower rank and fewer layers, converted into the running bundle's adapters/ as a hot drop would be.
        var dropped = WriteTenant(folder.Path, "loreft-tied-r1-layers-2-3", 20, batch);
        SideBundleExporter.WriteAdapter(bundle, Path.Combine(folder.Path, "loreft-tied-r1-layers-2-3"));
        SideBundleExporter.WriteAdapter(full, Path.Combine(folder.Path, "loreft-tied-r1-layers-2-3"));
        using var side = SideModel.Load(bundle, Cpu, watch: false);
        using var everyRow = SideModel.Load(full, Cpu, watch: false);
        Assert.Equal("LOREFT+GATED_PROMPT+LORA", side.Side.PeftType); // LoRA last: it rewires the projections the others find their sites by

        string[] all = [.. tenants, "loreft-tied-r1-layers-2-3"];
        float[][] references = [.. expected, dropped];
        var alone = all.Select(t => side.RunMixed(inputs, [.. Enumerable.Repeat(t, inputs.BatchSize)]).Values).ToList();
        for (var t = 0; t < all.Length; t++)
        {
            var fullLogits = everyRow.RunMixed(inputs, [.. Enumerable.Repeat(all[t], inputs.BatchSize)]).Values;
            var (diff, diffFull, vsFull) = (MaxDiff(references[t], alone[t]), MaxDiff(references[t], fullLogits), MaxDiff(fullLogits, alone[t]));
            output.WriteLine($"{all[t]} alone in the mixed bundle: max |onnx - torchsharp| logits: [CLS]-only last layer {diff:E2}, full last layer {diffFull:E2}; [CLS]-only vs full {vsFull:E2}");
            Assert.True(diff <= Tolerance, $"{all[t]}: {diff:E2}");
            Assert.True(diffFull <= Tolerance, $"{all[t]} (full last layer): {diffFull:E2}");
            Assert.True(vsFull <= Tolerance, $"{all[t]} ([CLS]-only vs full): {vsFull:E2}");
        }
        var labels = alone[0].Length / inputs.BatchSize;
        var mixedRows = side.RunMixed(inputs, all).Values; // row i uses tenant i
        var worst = 0.0;
        for (var row = 0; row < inputs.BatchSize; row++)
        {
            for (var j = 0; j < labels; j++)
                worst = Math.Max(worst, Math.Abs(mixedRows[row * labels + j] - alone[row][row * labels + j]));
        }
        output.WriteLine($"mixed batch (LoRA, LoReFT, gated prompt, dropped LoReFT) vs each tenant alone: max diff {worst:E2}");
        Assert.True(worst <= Tolerance, $"{worst:E2}");
    }

    [Theory]
    [InlineData("loreft")]
    [InlineData("gated-prompt")]
    public void A_zero_initialised_adapter_gives_exactly_the_base_logits(string method)
    {
        using var folder = new TempFolder("peftonnx-reft-zero-");
        var (inputs, batch) = MiniLmFixture.RaggedBatch();
        using var _ = batch;
        using var model = miniLm.Base.CreateClassifier(12, Pooling.Pooler);
        model.eval();
        float[] before;
        using (inference_mode())
        using (var logits = model.forward(batch))
            before = logits.data<float>().ToArray();
        var peft = PeftMethods.Create(method, new MethodSettings { Rank = 4 }, model.Bert.Config);
        peft.Apply(model);
        using (no_grad())
        {
            // LoReFT with W = R and b = 0 edits nothing; a gated prompt starts with its gates closed.
            foreach (var unit in model.modules().OfType<LoReftUnit>())
            {
                var parameters = unit.named_parameters().ToDictionary(p => p.name, p => p.parameter);
                parameters[LoReftConfig.SourceWeight].copy_(parameters[LoReftConfig.Projection]);
                parameters[LoReftConfig.SourceBias].zero_();
            }
        }
        model.eval();
        float[] after;
        using (inference_mode())
        using (var logits = model.forward(batch))
            after = logits.data<float>().ToArray();
        output.WriteLine($"{method}: trainer logits with the zero adapter vs without: max diff {MaxDiff(before, after):E2}");
        Assert.Equal(before, after);

        WriteAdapter(Path.Combine(folder.Path, method), model, peft);
        using var side = SideModel.Load(Export(folder.Path, SideGraphManifest.SideForm, method), Cpu, watch: false);
        var adapted = side.Run(inputs, method).Values;
        var graphOnly = side.Run(inputs, null).Values; // the method's inputs at their zero defaults: the base graph with the head
        output.WriteLine($"{method}: onnx logits with the zero adapter vs the base graph: max diff {MaxDiff(graphOnly, adapted):E2}");
        Assert.Equal(graphOnly, adapted);
    }

    [Fact]
    public void Bad_LoReFT_adapters_are_refused_with_the_reason()
    {
        using var folder = new TempFolder("peftonnx-reft-bad-");
        var (_, batch) = MiniLmFixture.RaggedBatch();
        using var _b = batch;
        WriteTenant(folder.Path, "loreft-tied-r4", 1, batch);
        var good = Path.Combine(folder.Path, "loreft-tied-r4");
        var bundle = Export(folder.Path, SideGraphManifest.SideForm, "loreft-tied-r4");

        var skewed = CopyWithTensors(good, Path.Combine(folder.Path, "skewed"), (key, data) => key.EndsWith(LoReftConfig.Projection, StringComparison.Ordinal) ? [.. data.Select(v => v * 1.01f)] : data);
        var refused = Assert.Throws<InvalidDataException>(() => SideBundleExporter.WriteAdapter(bundle, skewed));
        output.WriteLine(refused.Message);
        Assert.Contains("not orthonormal", refused.Message, StringComparison.Ordinal);
        Assert.Contains("2.01E-002", refused.Message, StringComparison.Ordinal);

        var nudged = CopyWithTensors(good, Path.Combine(folder.Path, "nudged"), (key, data) => key.EndsWith(LoReftConfig.Projection, StringComparison.Ordinal) ? [.. data.Select((v, i) => i == 0 ? v + 1e-4f : v)] : data);
        var progress = new Messages();
        new SideBundleExporter(progress).Export(new SideBundleOptions { BaseDirectory = TestModels.EnsurePulled("minilm-l6"), AdapterDirectories = [nudged], OutputDirectory = Path.Combine(folder.Path, "nudged-bundle") });
        var warning = Assert.Single(progress.Lines, l => l.StartsWith("warning:", StringComparison.Ordinal));
        output.WriteLine(warning);
        Assert.Contains("orthonormal only to", warning, StringComparison.Ordinal);

        var wrongLayer = CopyWithConfig(good, Path.Combine(folder.Path, "layer7"), c => c with { Layers = [1, 7] });
        var unknown = Assert.Throws<InvalidDataException>(() => Export(folder.Path, SideGraphManifest.SideForm, "layer7"));
        output.WriteLine(unknown.Message);
        Assert.Contains("layer 7", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("6 layers", unknown.Message, StringComparison.Ordinal);

        CopyWithConfig(good, Path.Combine(folder.Path, "rank8"), c => c with { R = 8 });
        var shape = Assert.Throws<InvalidDataException>(() => SideBundleExporter.WriteAdapter(bundle, Path.Combine(folder.Path, "rank8")));
        output.WriteLine(shape.Message);
        Assert.Contains("rank 8", shape.Message, StringComparison.Ordinal);
        Assert.NotNull(wrongLayer);
        CopyWithConfig(good, Path.Combine(folder.Path, "rank2"), c => c with { R = 2 });
        var wrongShape = Assert.Throws<InvalidDataException>(() => SideBundleExporter.WriteAdapter(bundle, Path.Combine(folder.Path, "rank2")));
        output.WriteLine(wrongShape.Message);
        Assert.Contains("R [4, 384]", wrongShape.Message, StringComparison.Ordinal);

        var positions = Assert.Throws<ArgumentException>(() => LoReftMethod.ParsePositions("f1+x2"));
        Assert.Contains("x2", positions.Message, StringComparison.Ordinal);
        using var model = miniLm.Base.CreateClassifier(12, Pooling.Pooler);
        var beyond = Assert.Throws<ArgumentException>(() => new LoReftMethod(new LoReftConfig { PrefixPositions = 300, SuffixPositions = 300 }).Apply(model));
        output.WriteLine(beyond.Message);
        Assert.Contains("600", beyond.Message, StringComparison.Ordinal);
    }

    private static SessionSettings Cpu => new() { Device = DeviceKind.Cpu, IntraOpThreads = 1 };

    /// <summary>Trains nothing: applies the tenant's method, sets seeded random values, writes the adapter; returns the trainer's logits.</summary>
    private float[] WriteTenant(string folder, string tenant, int seed, EncoderBatch batch)
    {
        using var model = miniLm.Base.CreateClassifier(12, Pooling.Pooler);
        var settings = tenant switch
        {
            "loreft-tied-r4" => new MethodSettings { Rank = 4, Tied = true, Layers = "1,2,3,4,5" },
            "loreft-untied-r2-f2l2" => new MethodSettings { Rank = 2, Positions = "f2+l2" },
            "loreft-tied-r1-layers-2-3" => new MethodSettings { Rank = 1, Tied = true, Layers = "2,3" },
            "gated-prompt-10x6" => new MethodSettings { PromptLength = 10, PromptLayers = 6 },
            "gated-prompt-4x3" => new MethodSettings { PromptLength = 4, PromptLayers = 3 },
            "lora-r4" => new MethodSettings { Rank = 4, Targets = "query,value" },
            _ => throw new ArgumentException(tenant),
        };
        var method = PeftMethods.Create(tenant.StartsWith("loreft", StringComparison.Ordinal) ? "loreft" : tenant.StartsWith("lora", StringComparison.Ordinal) ? "lora" : "gated-prompt", settings, model.Bert.Config);
        method.Apply(model);
        torch.manual_seed(seed);
        using (no_grad())
        {
            foreach (var (name, p) in model.named_parameters().Where(p => p.parameter.requires_grad))
                p.copy_(torch.randn(p.shape) * (name.EndsWith(GatedPromptConfig.Prompt, StringComparison.Ordinal) ? 1f : name.EndsWith(GatedPromptConfig.Gate, StringComparison.Ordinal) ? 0.5f : 0.05f));
        }
        foreach (var unit in model.modules().OfType<IParameterConstraint>())
            unit.Project();
        model.eval();
        WriteAdapter(Path.Combine(folder, tenant), model, method);
        using (inference_mode())
        using (var logits = model.forward(batch))
            return logits.data<float>().ToArray();
    }

    private static void WriteAdapter(string directory, BertForSequenceClassification model, PeftMethod method)
    {
        var tensors = model.named_parameters()
            .Where(p => p.parameter.requires_grad)
            .Select(p => SafeTensor.FromFloat32(method.AdapterKey(p.name), TrainerCheckpoint.ToArray(p.parameter), p.parameter.shape))
            .ToList();
        PeftAdapterWriter.Write(directory, method.AdapterConfig(model.Bert.Config)! with { BaseModelNameOrPath = "sentence-transformers/all-MiniLM-L6-v2" }, tensors);
    }

    private static string Export(string folder, string form, params string[] tenants) => Export(folder, form, clsOnlyLastLayer: true, tenants);

    /// <summary>
    /// Exports a side or mixed bundle and checks its last layer: with <paramref name="clsOnlyLastLayer"/> it computes the
    /// [CLS] row only (a LoReFT edit there reads row 0 of the position mask), without (--full-last-layer) every row.
    /// </summary>
    private static string Export(string folder, string form, bool clsOnlyLastLayer, params string[] tenants)
    {
        var log = new Messages();
        var directory = new SideBundleExporter(log).Export(new SideBundleOptions
        {
            BaseDirectory = TestModels.EnsurePulled("minilm-l6"),
            AdapterDirectories = [.. tenants.Select(t => Path.Combine(folder, t))],
            OutputDirectory = Path.Combine(folder, $"bundle-{form}-{string.Join("-", tenants)}{(clsOnlyLastLayer ? "" : "-full")}"),
            Form = form,
            ClsOnlyLastLayer = clsOnlyLastLayer,
        }).Directory;
        var nodes = OnnxModelFile.Load(Path.Combine(directory, "model.onnx")).Graph.Node;
        var report = string.Join(" | ", log.Lines.Where(l => l.Contains("cls-only-last-layer", StringComparison.Ordinal)));
        Assert.True(clsOnlyLastLayer == nodes.Any(n => n.Name.StartsWith("cls_last_layer/", StringComparison.Ordinal)), $"[CLS]-only last layer asked {clsOnlyLastLayer}; the export said: {report}");
        if (clsOnlyLastLayer && nodes.Any(n => n.Name == "loreft/5/output"))
            Assert.Contains(nodes, n => n.Name == "cls_last_layer/aligned0_slice");
        return directory;
    }

    private static string CopyWithTensors(string source, string target, Func<string, float[], float[]> change)
    {
        var adapter = PeftAdapter.Load(source);
        using var file = SafeTensorFile.Open(adapter.WeightsPath);
        var tensors = file.Tensors.Select(t => SafeTensor.FromFloat32(t.Name, change(t.Name, file.ReadFloat32(t.Name)), t.Shape)).ToList();
        PeftAdapterWriter.Write(target, adapter.Config, tensors);
        return target;
    }

    private static string CopyWithConfig(string source, string target, Func<LoReftConfig, LoReftConfig> change)
    {
        var adapter = PeftAdapter.Load(source);
        using var file = SafeTensorFile.Open(adapter.WeightsPath);
        var tensors = file.Tensors.Select(t => SafeTensor.FromFloat32(t.Name, file.ReadFloat32(t.Name), t.Shape)).ToList();
        PeftAdapterWriter.Write(target, change((LoReftConfig)adapter.Config), tensors);
        return target;
    }

    private static double MaxDiff(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        return expected.Zip(actual, (e, a) => Math.Abs((double)e - a)).Max();
    }

    private sealed class Messages : IProgress<string>
    {
        public List<string> Lines { get; } = [];

        public void Report(string value) => Lines.Add(value);
    }
}
