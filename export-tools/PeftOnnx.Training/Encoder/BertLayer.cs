using TorchSharp;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Encoder;

/// <summary>One transformer block: attention, then feed-forward (Hugging Face BertLayer).</summary>
public sealed class BertLayer : nn.Module
{
    private readonly BertAttention attention;
    private readonly BertIntermediate intermediate;
    private readonly BertOutput output;

    public BertLayer(BertConfig config) : base(nameof(BertLayer))
    {
        attention = new BertAttention(config);
        intermediate = new BertIntermediate(config);
        output = new BertOutput(config);
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor additiveMask, (Tensor Key, Tensor Value)? prefix)
    {
        using var scope = NewDisposeScope();
        var a = attention.forward(x, additiveMask, prefix);
        return output.forward(intermediate.forward(a), a).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            attention.Dispose();
            intermediate.Dispose();
            output.Dispose();
        }
        base.Dispose(disposing);
    }
}
