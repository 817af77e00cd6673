using PeftOnnx.Training.Methods.Bottleneck;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Methods.Stack;

/// <summary>
/// One adapter site under a stack, AdapterHub's <c>compose_stack</c> for adapters placed as PeftOnnx's are (on the
/// projection's output h, before the residual Add and LayerNorm: original_ln_before=False, residual_before_ln=True):
/// each adapter reads the previous one's output, its residual included, <c>h_k = h_{k-1} + up_k(f_k(down_k(h_{k-1})))</c>,
/// and the layer adds its input to the last one and normalises.
/// </summary>
public sealed class StackBlock : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<BottleneckAdapter> adapters;

    /// <param name="adapters">Bottom first: the frozen adapters, then the trained one.</param>
    public StackBlock(IReadOnlyList<BottleneckAdapter> adapters) : base(nameof(StackBlock))
    {
        ArgumentNullException.ThrowIfNull(adapters);
        this.adapters = nn.ModuleList([.. adapters]);
        RegisterComponents();
    }

    public override Tensor forward(Tensor h)
    {
        using var scope = NewDisposeScope();
        foreach (var adapter in adapters)
            h = adapter.forward(h);
        return h.MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            adapters.Dispose();
        base.Dispose(disposing);
    }
}
