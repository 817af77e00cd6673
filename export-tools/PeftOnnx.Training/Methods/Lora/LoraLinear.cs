using PeftOnnx.Training.Encoder;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Methods.Lora;

/// <summary>
/// Wraps a frozen Linear: y = base_layer(x) + s · lora_B(lora_A(dropout(x))), s = alpha/r (or alpha/√r with rsLoRA).
/// Field names follow PEFT (base_layer, lora_A, lora_B), so parameters are named X.lora_A.weight, X.lora_B.weight.
/// </summary>
public sealed class LoraLinear : nn.Module<Tensor, Tensor>
{
    private readonly Linear base_layer;
    private readonly Linear lora_A;
    private readonly Linear lora_B;
    private readonly FastDropout lora_dropout;

    public LoraLinear(Linear baseLayer, int r, double scaling, double dropout) : base(nameof(LoraLinear))
    {
        base_layer = baseLayer;
        (lora_A, lora_B) = CreateFactors(baseLayer, r, "LoRA");
        lora_dropout = new FastDropout(dropout);
        Scaling = scaling;
        RegisterComponents();
    }

    public double Scaling { get; }

    /// <summary>
    /// The low-rank factors with PEFT's default init, shared with DoRA: A like nn.Linear (Kaiming-uniform, a=√5),
    /// B zero, so training starts at the base model.
    /// </summary>
    internal static (Linear A, Linear B) CreateFactors(Linear baseLayer, int r, string method)
    {
        if (r <= 0)
            throw new ArgumentException($"the {method} rank should be positive, got {r}.");
        var a = nn.Linear(baseLayer.in_features, r, hasBias: false);
        var b = nn.Linear(r, baseLayer.out_features, hasBias: false);
        using (no_grad())
            nn.init.zeros_(b.weight!);
        return (a, b);
    }

    public Linear BaseLayer => base_layer;

    public Parameter A => lora_A.weight!;

    public Parameter B => lora_B.weight!;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var delta = lora_B.forward(lora_A.forward(lora_dropout.forward(x)));
        return (base_layer.forward(x) + delta * Scaling).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            base_layer.Dispose();
            lora_A.Dispose();
            lora_B.Dispose();
            lora_dropout.Dispose();
        }
        base.Dispose(disposing);
    }
}
