using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Encoder;

/// <summary>The stack of transformer blocks (Hugging Face BertEncoder; parameters under layer.N).</summary>
public sealed class BertEncoder : nn.Module
{
    private readonly ModuleList<BertLayer> layer;

    public BertEncoder(BertConfig config) : base(nameof(BertEncoder))
    {
        layer = nn.ModuleList(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new BertLayer(config)).ToArray());
        RegisterComponents();
    }

    /// <param name="prefixes">Per-layer prefix keys/values (prefix tuning), or null.</param>
    public Tensor forward(Tensor x, Tensor additiveMask, IReadOnlyList<(Tensor Key, Tensor Value)>? prefixes)
    {
        using var scope = NewDisposeScope();
        var h = x;
        for (var i = 0; i < layer.Count; i++)
            h = layer[i].forward(h, additiveMask, prefixes?[i]);
        return h.MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            layer.Dispose();
        base.Dispose(disposing);
    }
}
