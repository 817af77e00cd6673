using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using PeftOnnx.Core.Numerics;
using PeftOnnx.Onnx.Graph;
using PeftOnnx.Onnx.Modules;
using PeftOnnx.Onnx.Passes;
using PeftOnnx.Onnx.Tests.Fusions;
using Xunit.Abstractions;

namespace PeftOnnx.Onnx.Tests.Passes;

public sealed class ClsOnlyLastLayerPassTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-5;

    [Theory]
    [InlineData(GraphOptimizationLevel.ORT_DISABLE_ALL)]
    [InlineData(GraphOptimizationLevel.ORT_ENABLE_ALL)]
    public void Cls_only_last_layer_gives_the_full_graphs_logits_on_padded_rows(GraphOptimizationLevel level)
    {
        var full = Classifier(HeadPooling.Pooler);
        var pruned = full.Clone();

        var report = pruned.Apply(new ClsOnlyLastLayerPass());
        Assert.True(report.Changed == 1, report.ToString());

        var diff = FusionParity.MaxAbsDiff(full, pruned, level, out var detail);
        output.WriteLine($"cls-only last layer vs full, ORT {level}: max abs diff {diff:E2} ({detail}); nodes {full.Graph.Node.Count} -> {pruned.Graph.Node.Count}");
        Assert.True(diff <= Tolerance, $"max abs diff {diff:E3} exceeds {Tolerance}");
    }

    [Fact]
    public void The_last_layer_has_no_key_or_value_projection_and_one_row_projections()
    {
        var full = Classifier(HeadPooling.Pooler);
        var pruned = full.Clone();
        var report = pruned.Apply(new ClsOnlyLastLayerPass());
        Assert.Equal(1, report.Changed);
        Assert.Contains("folded", report.Summary, StringComparison.Ordinal);

        // Per-token projections are MatMuls by a 2-D weight: Q, K, V, output, intermediate, output dense per layer.
        Assert.Equal(36, WeightMatMuls(full));
        Assert.Equal(34, WeightMatMuls(pruned));
        var added = pruned.Graph.Node.Where(n => n.Name.StartsWith("cls_last_layer/", StringComparison.Ordinal)).ToList();
        output.WriteLine($"{added.Count} new nodes: {string.Join(", ", added.Select(n => $"{n.OpType} {n.Name}"))}");
        Assert.Equal(2, added.Count(n => n.OpType == "Slice")); // the layer input's row 0 and the mask's
        Assert.Equal(1, added.Count(n => n.OpType == "Softmax"));
        using var session = new InferenceSession(pruned.ToByteArray());
        Assert.Equal(["logits", "probabilities"], session.OutputNames);
    }

    [Fact]
    public void The_module_map_still_reads_and_lacks_only_the_folded_key_and_value()
    {
        var full = Classifier(HeadPooling.Pooler);
        var pruned = full.Clone();
        Assert.Equal(1, pruned.Apply(new ClsOnlyLastLayerPass()).Changed);

        var missing = ModuleMap.Build(full).Linears.Select(l => l.Name).Except(ModuleMap.Build(pruned).Linears.Select(l => l.Name)).ToList();

        Assert.Equal(["encoder.layer.5.attention.self.key", "encoder.layer.5.attention.self.value"], missing);
    }

    [Fact]
    public void A_mean_pooled_head_reads_every_row_and_is_left_alone()
    {
        var model = Classifier(HeadPooling.Mean);
        var before = model.ToByteArray();

        var report = model.Apply(new ClsOnlyLastLayerPass());

        output.WriteLine(report.ToString());
        Assert.Equal(0, report.Changed);
        Assert.Contains("ReduceSum", Assert.Single(report.Unhandled), StringComparison.Ordinal); // the mean over the sequence
        Assert.Equal(before, model.ToByteArray());
        Assert.StartsWith("left as is", report.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void An_encoder_that_outputs_its_hidden_states_is_left_alone()
    {
        var model = MiniLm.Clone();

        var report = model.Apply(new ClsOnlyLastLayerPass());
        var reason = Assert.Single(report.Unhandled);

        output.WriteLine(reason);
        Assert.Contains("last_hidden_state", reason, StringComparison.Ordinal);
        Assert.Contains("graph output", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tail_op_that_mixes_rows_stops_the_rewrite()
    {
        // A Softmax over the sequence axis after the last layer mixes rows: row 0 alone would be wrong.
        var model = Classifier(HeadPooling.Pooler);
        var gather = model.Graph.Node.Single(n => n.OpType == "Gather" && n.Input[0] == "last_hidden_state");
        var mixer = new NodeProto { OpType = "Softmax", Name = "mix_rows", Output = { "mixed_rows" }, Input = { "last_hidden_state" } };
        mixer.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        model.Graph.Node.Insert(model.Graph.Node.IndexOf(gather), mixer);
        gather.Input[0] = "mixed_rows";

        var report = model.Apply(new ClsOnlyLastLayerPass());
        var reason = Assert.Single(report.Unhandled);

        output.WriteLine(reason);
        Assert.Contains("mix_rows", reason, StringComparison.Ordinal);
    }

    /// <summary>minilm-l6 with a 3-label head (fixed random weights) and logits/probabilities as its only outputs.</summary>
    private static ModelProto Classifier(HeadPooling pooling)
    {
        var random = new Random(11);
        var weight = new Matrix64(3, 384, [.. Enumerable.Range(0, 3 * 384).Select(_ => (random.NextDouble() - 0.5) * 0.2)]);
        var model = MiniLm.Clone();
        model.Apply(new ClassificationHeadPass(new ClassificationHead(weight, [0.1, -0.2, 0.05], ["a", "b", "c"], pooling), "last_hidden_state", "924"));
        return model;
    }

    private static int WeightMatMuls(ModelProto model)
    {
        var index = new GraphIndex(model.Graph);
        return model.Graph.Node.Count(n => n.OpType == "MatMul" && index.Initializer(n.Input[1]) is { Dims.Count: 2 });
    }
}
