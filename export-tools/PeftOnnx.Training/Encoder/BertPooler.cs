using TorchSharp;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Encoder;

/// <summary>tanh(dense(h[:, 0])): the first position's hidden state through a dense layer (Hugging Face BertPooler).</summary>
public sealed class BertPooler : nn.Module<Tensor, Tensor>
{
    private nn.Module<Tensor, Tensor> dense;

    public BertPooler(BertConfig config) : base(nameof(BertPooler))
    {
        dense = nn.Linear(config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    /// <param name="hidden">(B, T, H)</param>
    /// <returns>(B, H)</returns>
    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return dense.forward(hidden.select(1, 0)).tanh().MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            dense.Dispose();
        base.Dispose(disposing);
    }
}
