using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Encoder;

/// <summary>Attention output projection, residual and LayerNorm (Hugging Face BertSelfOutput), with an optional bottleneck adapter slot.</summary>
public sealed class BertSelfOutput : nn.Module
{
    private nn.Module<Tensor, Tensor> dense;
    private readonly LayerNorm LayerNorm;
    private readonly FastDropout dropout;
    // Houlsby adapters sit here: after the projection, before the residual and LayerNorm. Null without one.
#pragma warning disable CS0649 // assigned by ModuleSurgery.Replace when an adapter is inserted
    private nn.Module<Tensor, Tensor>? adapter;
#pragma warning restore CS0649

    public BertSelfOutput(BertConfig config) : base(nameof(BertSelfOutput))
    {
        dense = nn.Linear(config.HiddenSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        dropout = new FastDropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    public Tensor forward(Tensor hidden, Tensor residual)
    {
        using var scope = NewDisposeScope();
        var h = dropout.forward(dense.forward(hidden));
        if (adapter is not null)
            h = adapter.forward(h);
        return LayerNorm.forward(h + residual).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            dense.Dispose();
            LayerNorm.Dispose();
            dropout.Dispose();
            adapter?.Dispose();
        }
        base.Dispose(disposing);
    }
}
