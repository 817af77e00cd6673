using PeftOnnx.Training.Methods.Bottleneck;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Methods.Fusion;

/// <summary>
/// One adapter site under AdapterFusion, AdapterHub's <c>BottleneckLayer.compose_fuse</c> for adapters placed as
/// PeftOnnx's are (on the projection's output h, before the residual Add and LayerNorm; original_ln_before=False):
/// the query and the residual are h, each frozen adapter k gives <c>u_k = up(f(down(h)))</c>, and the fusion returns
/// <c>h + Σ_k softmax_k(Q(h)·K(u_k)) V(u_k)</c>, which the layer then adds to its input and normalises.
/// </summary>
public sealed class FusionBlock : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<BottleneckAdapter> adapters;
    private readonly AdapterFusionLayer fusion;

    public FusionBlock(IReadOnlyList<BottleneckAdapter> adapters, AdapterFusionLayer fusion) : base(nameof(FusionBlock))
    {
        ArgumentNullException.ThrowIfNull(adapters);
        this.adapters = nn.ModuleList([.. adapters]);
        this.fusion = fusion;
        RegisterComponents();
    }

    public override Tensor forward(Tensor h)
    {
        using var scope = NewDisposeScope();
        var ups = stack(adapters.Select(a => a.Delta(h)), 2); // (B, T, N, H)
        return fusion.Fuse(h, ups).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            adapters.Dispose();
            fusion.Dispose();
        }
        base.Dispose(disposing);
    }
}
