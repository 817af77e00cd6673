using PeftOnnx.Core.Adapters.Lora;
using PeftOnnx.Core.Numerics;
using PeftOnnx.Training.Methods.Bottleneck;
using PeftOnnx.Training.Methods.Ia3;
using PeftOnnx.Training.Methods.Lora;
using TorchSharp;
using TorchSharp.Modules;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Tests;

/// <summary>Each adapter layer's forward equals the base layer with the weights the exporter merges (PeftOnnx.Core, float64).</summary>
public sealed class AdapterLayerTests(ITestOutputHelper output)
{
    private const int In = 24;
    private const int Out = 16;

    private static Linear BaseLayer()
    {
        random.manual_seed(7);
        return nn.Linear(In, Out);
    }

    private static Matrix64 M(Tensor t) => Matrix64.FromFloat32((int)t.shape[0], (int)t.shape[1], t.detach().contiguous().data<float>().ToArray());

    /// <summary>x·W'ᵀ + b with W' from Core, in float32.</summary>
    private static Tensor Reference(Tensor x, Matrix64 merged, Tensor? bias)
    {
        using var w = tensor(merged.ToFloat32(), [merged.Rows, merged.Cols]);
        return nn.functional.linear(x, w, bias);
    }

    private void AssertClose(Tensor actual, Tensor expected, string what)
    {
        var diff = (actual - expected).abs().max().item<float>();
        output.WriteLine($"{what}: max diff {diff:E2}");
        Assert.True(diff < 1e-5, $"{what} differs by {diff}");
    }

    private static void Randomise(nn.Module module, string contains)
    {
        using var _ = no_grad();
        foreach (var (name, p) in module.named_parameters().Where(p => p.name.Contains(contains, StringComparison.Ordinal)))
            p.copy_(randn_like(p) * 0.3);
    }

    [Fact]
    public void Lora_forward_equals_merged_weight()
    {
        var baseLayer = BaseLayer();
        using var lora = new LoraLinear(baseLayer, 4, 2.0, 0.0);
        Randomise(lora, "lora_");
        lora.eval();
        using var x = randn(3, 5, In);
        using var y = lora.forward(x);
        var merged = baseLayer.weight!;
        var delta = LoraDelta.Compute(M(lora.A), M(lora.B), 2.0);
        var w = M(merged);
        for (var i = 0; i < w.Data.Length; i++)
            w.Data[i] += delta.Data[i];
        AssertClose(y, Reference(x, w, baseLayer.bias), "LoRA");
    }

    [Fact]
    public void Dora_forward_equals_core_dora_merge()
    {
        var baseLayer = BaseLayer();
        using var dora = new DoraLinear(baseLayer, 4, 2.0, 0.0);
        Randomise(dora, "lora_");
        dora.eval();
        var parameters = dora.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using var x = randn(3, 5, In);
        using var y = dora.forward(x);
        var magnitude = parameters["lora_magnitude_vector"].detach().data<float>().ToArray().Select(v => (double)v).ToArray();
        var merged = DoraMerge.Merge(M(baseLayer.weight!), M(parameters["lora_A.weight"]), M(parameters["lora_B.weight"]), 2.0, magnitude);
        AssertClose(y, Reference(x, merged, baseLayer.bias), "DoRA");
    }

    [Fact]
    public void Dora_starts_at_the_base_layer()
    {
        var baseLayer = BaseLayer();
        using var x = randn(2, In);
        using var expected = baseLayer.forward(x);
        using var dora = new DoraLinear(baseLayer, 4, 2.0, 0.0);
        dora.eval();
        AssertClose(dora.forward(x), expected, "DoRA at init");
    }

    [Fact]
    public void Ia3_scales_output_with_bias_or_input()
    {
        var baseLayer = BaseLayer();
        using var x = randn(2, In);
        using var l = rand(Out) + 0.5;
        using var ia3 = new Ia3Linear(baseLayer, isFeedforward: false);
        using (no_grad())
            ia3.named_parameters().Single(p => p.name == "ia3_l").parameter.copy_(l.view(Out, 1));
        AssertClose(ia3.forward(x), baseLayer.forward(x) * l, "IA3 output scaling");

        var ffBase = BaseLayer();
        using var lin = rand(In) + 0.5;
        using var ff = new Ia3Linear(ffBase, isFeedforward: true);
        using (no_grad())
            ff.named_parameters().Single(p => p.name == "ia3_l").parameter.copy_(lin.view(1, In));
        AssertClose(ff.forward(x), ffBase.forward(x * lin), "IA3 input scaling");
    }

    [Fact]
    public void Bottleneck_is_identity_at_init_and_residual_after()
    {
        random.manual_seed(5);
        using var adapter = new BottleneckAdapter(In, 6, "gelu");
        using var h = randn(2, 3, In);
        AssertClose(adapter.forward(h), h, "bottleneck at init");
        Randomise(adapter, "up.");
        var p = adapter.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        using var expected = h + nn.functional.linear(nn.functional.gelu(nn.functional.linear(h, p["down.weight"], p["down.bias"])), p["up.weight"], p["up.bias"]);
        AssertClose(adapter.forward(h), expected, "bottleneck");
    }

    [Fact]
    public void Bottleneck_refuses_unknown_non_linearity()
    {
        var e = Assert.Throws<ArgumentException>(() => new BottleneckAdapter(In, 6, "sigmoid"));
        Assert.Contains("sigmoid", e.Message, StringComparison.Ordinal);
    }
}
