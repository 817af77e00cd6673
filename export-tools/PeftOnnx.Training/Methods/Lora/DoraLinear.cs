using PeftOnnx.Training.Encoder;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Methods.Lora;

/// <summary>
/// DoRA as PEFT 0.21 runs it: V = W + s·B·A, n = ‖V‖ per output row (detached, as in the paper §4.3),
/// y = (m/n) ⊙ (x·Vᵀ) + b, with the magnitude m (lora_magnitude_vector, [out]) initialised to ‖W‖ per row.
/// </summary>
public sealed class DoraLinear : nn.Module<Tensor, Tensor>
{
    private readonly Linear base_layer;
    private readonly Linear lora_A;
    private readonly Linear lora_B;
    private readonly FastDropout lora_dropout;
    private readonly Parameter lora_magnitude_vector;

    public DoraLinear(Linear baseLayer, int r, double scaling, double dropout) : base(nameof(DoraLinear))
    {
        base_layer = baseLayer;
        (lora_A, lora_B) = LoraLinear.CreateFactors(baseLayer, r, "DoRA");
        using (no_grad())
            lora_magnitude_vector = nn.Parameter(linalg.vector_norm(baseLayer.weight!, dims: [1]).detach().clone()); // (out)
        lora_dropout = new FastDropout(dropout);
        Scaling = scaling;
        RegisterComponents();
    }

    public double Scaling { get; }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var w = base_layer.weight!;
        var delta = lora_B.weight!.matmul(lora_A.weight!) * Scaling;            // (out, in)
        var norm = linalg.vector_norm(w + delta, dims: [1]).detach();             // (out)
        var scale = lora_magnitude_vector / norm;                                  // (out)
        var dropped = lora_dropout.forward(x);
        // PEFT: base(x) + (m/n - 1)·(dropout(x)·Wᵀ) + (m/n)·s·B·A·dropout(x); without dropout this is (m/n)·(x·Vᵀ) + b.
        var baseOnDropped = nn.functional.linear(dropped, w);
        var loraOut = lora_B.forward(lora_A.forward(dropped)) * Scaling;
        var result = base_layer.forward(x) + (scale - 1) * baseOnDropped + scale * loraOut;
        return result.MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            base_layer.Dispose();
            lora_A.Dispose();
            lora_B.Dispose();
            lora_dropout.Dispose();
            lora_magnitude_vector.Dispose();
        }
        base.Dispose(disposing);
    }
}
