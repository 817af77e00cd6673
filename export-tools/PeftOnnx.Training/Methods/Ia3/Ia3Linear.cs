using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Methods.Ia3;

/// <summary>
/// IA3 as PEFT runs it: a learned vector ia3_l (initialised to ones) that scales the output of
/// attention-like targets, bias included (shape [out, 1]: y = (x·Wᵀ + b) ⊙ l), or the input of
/// feed-forward targets (shape [1, in]: y = (x ⊙ l)·Wᵀ + b).
/// </summary>
public sealed class Ia3Linear : nn.Module<Tensor, Tensor>
{
    private readonly Linear base_layer;
    private readonly Parameter ia3_l;

    public Ia3Linear(Linear baseLayer, bool isFeedforward) : base(nameof(Ia3Linear))
    {
        base_layer = baseLayer;
        IsFeedforward = isFeedforward;
        ia3_l = nn.Parameter(isFeedforward ? ones(1, baseLayer.in_features) : ones(baseLayer.out_features, 1));
        RegisterComponents();
    }

    public bool IsFeedforward { get; }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = IsFeedforward
            ? base_layer.forward(x * ia3_l.flatten())   // (…, in) ⊙ (in)
            : base_layer.forward(x) * ia3_l.flatten();  // (…, out) ⊙ (out)
        return y.MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            base_layer.Dispose();
            ia3_l.Dispose();
        }
        base.Dispose(disposing);
    }
}
