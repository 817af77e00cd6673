using TorchSharp;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Encoder;

/// <summary>Self-attention followed by its output block (Hugging Face BertAttention).</summary>
public sealed class BertAttention : nn.Module
{
    private readonly BertSelfAttention self;
    private readonly BertSelfOutput output;

    public BertAttention(BertConfig config) : base(nameof(BertAttention))
    {
        self = new BertSelfAttention(config);
        output = new BertSelfOutput(config);
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor additiveMask, (Tensor Key, Tensor Value)? prefix)
    {
        using var scope = NewDisposeScope();
        return output.forward(self.forward(x, additiveMask, prefix), x).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            self.Dispose();
            output.Dispose();
        }
        base.Dispose(disposing);
    }
}
