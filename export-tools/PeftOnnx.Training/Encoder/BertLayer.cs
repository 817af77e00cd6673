using TorchSharp;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Encoder;

/// <summary>One transformer block: attention, then feed-forward (Hugging Face BertLayer), with an optional intervention slot on its output.</summary>
public sealed class BertLayer : nn.Module
{
    private readonly BertAttention attention;
    private readonly BertIntermediate intermediate;
    private readonly BertOutput output;
    // LoReFT edits the block output at chosen positions, which it finds from the additive mask. Null without one.
    private nn.Module<Tensor, Tensor, Tensor>? reft;

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
        var h = output.forward(intermediate.forward(a), a);
        if (reft is not null)
            h = reft.forward(h, additiveMask);
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>Puts <paramref name="intervention"/> (hidden (B, T, H), additive mask (B, 1, 1, T)) -> hidden on the block output; its parameters become reft.….</summary>
    public void Intervene(nn.Module<Tensor, Tensor, Tensor> intervention)
    {
        if (reft is not null)
            throw new InvalidOperationException("this layer already has an intervention.");
        register_module(nameof(reft), intervention);
        reft = intervention;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            attention.Dispose();
            intermediate.Dispose();
            output.Dispose();
            reft?.Dispose();
        }
        base.Dispose(disposing);
    }
}
