using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Methods.Bottleneck;

/// <summary>
/// h + up(f(down(h))): a residual bottleneck. The up-projection starts at zero, so an untrained
/// adapter is the identity and training starts at the base model.
/// </summary>
public sealed class BottleneckAdapter : nn.Module<Tensor, Tensor>
{
    private readonly Linear down;
    private readonly Linear up;
    private readonly string nonLinearity;

    /// <param name="nonLinearity">relu, gelu, swish or tanh.</param>
    public BottleneckAdapter(int hiddenSize, int width, string nonLinearity) : base(nameof(BottleneckAdapter))
    {
        if (nonLinearity is not ("relu" or "gelu" or "swish" or "tanh"))
            throw new ArgumentException($"the non-linearity should be relu, gelu, swish or tanh, got '{nonLinearity}'.");
        if (width <= 0 || width > hiddenSize)
            throw new ArgumentException($"the bottleneck width should be in 1..{hiddenSize}, got {width}.");
        down = nn.Linear(hiddenSize, width);
        up = nn.Linear(width, hiddenSize);
        using (no_grad())
        {
            nn.init.zeros_(up.weight!);
            nn.init.zeros_(up.bias!);
        }
        this.nonLinearity = nonLinearity;
        RegisterComponents();
    }

    public override Tensor forward(Tensor h)
    {
        using var scope = NewDisposeScope();
        return (h + Delta(h)).MoveToOuterDisposeScope();
    }

    /// <summary>up(f(down(h))) without the residual: what AdapterFusion attends over (AdapterHub's bottleneck_up).</summary>
    public Tensor Delta(Tensor h)
    {
        using var scope = NewDisposeScope();
        var z = down.forward(h);
        z = nonLinearity switch
        {
            "gelu" => nn.functional.gelu(z),
            "tanh" => z.tanh(),
            "swish" => nn.functional.silu(z),
            _ => nn.functional.relu(z),
        };
        return up.forward(z).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            down.Dispose();
            up.Dispose();
        }
        base.Dispose(disposing);
    }
}
