using TorchSharp;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Encoder;

/// <summary>Feed-forward expansion with exact (erf) GELU (Hugging Face BertIntermediate).</summary>
public sealed class BertIntermediate : nn.Module<Tensor, Tensor>
{
    private nn.Module<Tensor, Tensor> dense;

    public BertIntermediate(BertConfig config) : base(nameof(BertIntermediate))
    {
        dense = nn.Linear(config.HiddenSize, config.IntermediateSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return nn.functional.gelu(dense.forward(x)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            dense.Dispose();
        base.Dispose(disposing);
    }
}
