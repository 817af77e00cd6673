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

    /// <summary>Recompute each block in the backward pass instead of keeping its activations (training only).</summary>
    public bool GradientCheckpointing { get; set; }

    /// <param name="prefixes">Per-layer prefix keys/values (prefix tuning), or null.</param>
    public Tensor forward(Tensor x, Tensor additiveMask, IReadOnlyList<(Tensor Key, Tensor Value)>? prefixes)
    {
        using var scope = NewDisposeScope();
        var h = x;
        for (var i = 0; i < layer.Count; i++)
        {
            if (Checkpointed(layer[i], h, prefixes?[i]))
            {
                // A frozen embedding gives an input without grad: the checkpoint's backward must still run for the
                // trainable parameters inside the block (what transformers' enable_input_require_grads is for).
                if (!h.requires_grad)
                    h = h.detach().requires_grad_(true);
                h = CheckpointedLayer.Apply(layer[i], h, additiveMask, prefixes?[i]);
            }
            else
            {
                h = layer[i].forward(h, additiveMask, prefixes?[i]);
            }
        }
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>Only when a gradient has to flow through or into the block.</summary>
    private bool Checkpointed(BertLayer block, Tensor h, (Tensor Key, Tensor Value)? prefix) =>
        GradientCheckpointing && training && is_grad_enabled()
        && (h.requires_grad || prefix is { Key.requires_grad: true } || block.parameters().Any(p => p.requires_grad));

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            layer.Dispose();
        base.Dispose(disposing);
    }
}
