using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Encoder;

/// <summary>Feed-forward contraction, residual and LayerNorm (Hugging Face BertOutput), with an optional bottleneck adapter slot.</summary>
public sealed class BertOutput : nn.Module
{
    private nn.Module<Tensor, Tensor> dense;
    private readonly LayerNorm LayerNorm;
    private readonly FastDropout dropout;
    // Houlsby and Pfeiffer adapters sit here: after the projection, before the residual and LayerNorm. Null without one.
#pragma warning disable CS0649 // assigned by ModuleSurgery.Replace when an adapter is inserted
    private nn.Module<Tensor, Tensor>? adapter;
#pragma warning restore CS0649

    public BertOutput(BertConfig config) : base(nameof(BertOutput))
    {
        dense = nn.Linear(config.IntermediateSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        dropout = new FastDropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    public Tensor forward(Tensor intermediate, Tensor residual)
    {
        using var scope = NewDisposeScope();
        var h = dropout.forward(dense.forward(intermediate));
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
