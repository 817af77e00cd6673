using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Methods.LoReft;

/// <summary>
/// A layer's LoReFT: unit 0 edits the first <c>prefix</c> real tokens, unit 1 the last <c>suffix</c> real tokens (one
/// unit for both when tied). Real tokens are where the additive mask is 0, so right padding never moves the positions;
/// a token that is among both the first and the last (a sequence shorter than prefix + suffix) is edited as a prefix
/// position only.
/// </summary>
public sealed class LoReftIntervention : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<LoReftUnit> units;
    private readonly long prefix;
    private readonly long suffix;

    public LoReftIntervention(int hidden, int rank, int prefix, int suffix, bool tied, double dropout) : base(nameof(LoReftIntervention))
    {
        units = nn.ModuleList([.. Enumerable.Range(0, tied ? 1 : 2).Select(_ => new LoReftUnit(hidden, rank, dropout))]);
        (this.prefix, this.suffix) = (prefix, suffix);
        RegisterComponents();
    }

    public IReadOnlyList<LoReftUnit> Units => [.. units];

    /// <param name="h">(B, T, H)</param>
    /// <param name="additiveMask">(B, 1, 1, T): 0 at real tokens.</param>
    public override Tensor forward(Tensor h, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        var (batch, length) = (h.shape[0], h.shape[1]);
        if (additiveMask.shape[^1] != length)
            throw new InvalidOperationException($"LoReFT reads the positions from a mask over the {length} tokens, got one over {additiveMask.shape[^1]} keys; it cannot be combined with prefix tuning.");
        var real = additiveMask.reshape(batch, length).eq(0);                  // (B, T)
        var count = real.sum(1, keepdim: true, type: ScalarType.Int64);        // (B, 1)
        var position = arange(length, dtype: ScalarType.Int64, device: h.device).unsqueeze(0); // (1, T)
        var first = position.lt(prefix).logical_and(position.lt(count));       // (B, T)
        var last = position.ge(count - suffix).logical_and(position.lt(count)).logical_and(first.logical_not());
        Tensor output;
        if (units.Count == 1)
            output = where(first.logical_or(last).unsqueeze(-1), units[0].forward(h), h);
        else
            output = where(first.unsqueeze(-1), units[0].forward(h), where(last.unsqueeze(-1), units[1].forward(h), h));
        return output.MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            units.Dispose();
        base.Dispose(disposing);
    }
}
