using TorchSharp;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Encoder;

/// <summary>Feed-forward expansion and its activation, exact (erf) GELU unless the config says otherwise (Hugging Face BertIntermediate).</summary>
public sealed class BertIntermediate : nn.Module<Tensor, Tensor>
{
    private nn.Module<Tensor, Tensor> dense;
    private readonly string _activation;

    public BertIntermediate(BertConfig config) : base(nameof(BertIntermediate))
    {
        dense = nn.Linear(config.HiddenSize, config.IntermediateSize);
        _activation = config.HiddenAct;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = dense.forward(x);
        return Activate(h).MoveToOuterDisposeScope();
    }

    private Tensor Activate(Tensor h) => _activation switch
    {
        "relu" => nn.functional.relu(h),
        // transformers' NewGELUActivation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
        "gelu_new" => 0.5 * h * (1.0 + tanh(Math.Sqrt(2.0 / Math.PI) * (h + 0.044715 * h.pow(3)))),
        _ => nn.functional.gelu(h),
    };

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            dense.Dispose();
        base.Dispose(disposing);
    }
}
