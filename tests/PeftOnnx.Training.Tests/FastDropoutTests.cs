using PeftOnnx.Training.Encoder;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Tests;

/// <summary>The hash-mask dropout behaves like nn.Dropout: keep rate, scaling, gradient, eval identity, seeded draws.</summary>
public sealed class FastDropoutTests(ITestOutputHelper output)
{
    [Fact]
    public void Keeps_one_minus_p_of_the_elements_scaled_by_its_inverse()
    {
        torch.set_num_threads(1);
        random.manual_seed(3);
        using var x = ones(64, 128, 384);
        using var y = FastDropout.Apply(x, 0.1);
        var values = y.data<float>().ToArray();
        var kept = values.Count(v => v != 0) / (double)values.Length;
        output.WriteLine($"kept {kept:P4} of {values.Length:N0} (expected 90 %); kept values {values.First(v => v != 0)}");
        Assert.InRange(kept, 0.899, 0.901);
        Assert.All(values.Where(v => v != 0).Take(1000), v => Assert.Equal(1 / 0.9f, v, 1e-6f));
        // Neighbouring elements are independent: runs of dropped elements are as rare as chance says.
        var pairsDropped = values.Zip(values.Skip(1)).Count(p => p.First == 0 && p.Second == 0) / (double)(values.Length - 1);
        Assert.InRange(pairsDropped, 0.0095, 0.0105);
    }

    [Fact]
    public void Same_generator_state_gives_the_same_mask_and_another_state_a_different_one()
    {
        using var x = ones(8, 1000);
        random.manual_seed(7);
        using var a = FastDropout.Apply(x, 0.3);
        random.manual_seed(7);
        using var b = FastDropout.Apply(x, 0.3);
        using var c = FastDropout.Apply(x, 0.3);
        Assert.True(a.eq(b).all().item<bool>());
        Assert.False(c.eq(a).all().item<bool>());
    }

    [Fact]
    public void Gradient_is_the_mask_times_the_scale_and_eval_is_the_identity()
    {
        random.manual_seed(11);
        using var x = randn(16, 32).requires_grad_(true);
        using var dropout = new FastDropout(0.25);
        using var y = dropout.forward(x);
        y.sum().backward();
        using var expected = y.detach().ne(0).to(ScalarType.Float32).mul(1 / 0.75);
        Assert.True(x.grad!.allclose(expected), "grad != mask / (1 - p)");
        dropout.eval();
        Assert.Same(x, dropout.forward(x));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FastDropout(1.0));
    }
}
