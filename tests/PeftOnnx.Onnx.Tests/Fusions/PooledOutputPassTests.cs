using PeftOnnx.Onnx.Passes;
using PeftOnnx.Onnx.Passes.Fusions;
using Xunit.Abstractions;

namespace PeftOnnx.Onnx.Tests.Fusions;

public sealed class PooledOutputPassTests(ITestOutputHelper output)
{
    [Fact]
    public void Pooled_output_matches_mean_pooling_and_l2_norm_of_the_hidden_state()
    {
        var pooled = MiniLm.Clone();
        pooled.Apply(new PooledOutputPass());
        var (reference, actual) = FusionParity.PooledPair(MiniLm.Model, pooled);
        var diff = reference.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"sentence_embedding vs C# mean pooling + L2 norm of last_hidden_state: max abs diff {diff:E3}");
        Assert.True(diff <= 1e-5, $"max abs diff {diff} exceeds 1e-5");
    }

    [Fact]
    public void Pooled_only_drops_the_other_outputs_and_their_nodes()
    {
        var model = MiniLm.Clone();
        model.Apply(new PooledOutputPass(pooledOnly: true));
        Assert.Equal([PooledOutputPass.OutputName], model.Graph.Output.Select(o => o.Name));
        Assert.DoesNotContain(model.Graph.Node, n => n.OpType == "Tanh"); // the pooler head only "924" needed
    }

    [Fact]
    public void Fused_fp16_pooled_graph_stays_within_fp16_error_of_the_fp32_embedding()
    {
        var model = MiniLm.Clone();
        TransformerFusion.Apply(model);
        model.Apply(new PooledOutputPass(pooledOnly: true));
        var keep = new HashSet<string>(Fp16ConversionPass.DefaultKeepFp32Ops, StringComparer.Ordinal);
        keep.ExceptWith(["LayerNormalization", "SkipLayerNormalization"]);
        model.Apply(new Fp16ConversionPass { KeepFp32Ops = keep });
        var (reference, actual) = FusionParity.PooledPair(MiniLm.Model, model);
        var diff = reference.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"fused fp16 sentence_embedding vs fp32 reference: max abs diff {diff:E3}");
        Assert.True(diff <= 2e-3, $"max abs diff {diff} exceeds 2e-3");
    }

    [Fact]
    public void A_model_without_last_hidden_state_is_refused_with_its_outputs()
    {
        var model = MiniLm.Clone();
        var e = Assert.Throws<InvalidDataException>(() => model.Apply(new PooledOutputPass(hiddenOutput: "states")));
        Assert.Contains("last_hidden_state", e.Message, StringComparison.Ordinal);
    }
}
