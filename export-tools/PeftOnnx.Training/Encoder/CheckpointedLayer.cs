using TorchSharp;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Encoder;

/// <summary>
/// Gradient checkpointing for one transformer block (like torch.utils.checkpoint with use_reentrant=True): the
/// forward runs without an autograd graph and keeps only the block's input; the backward re-runs the block with the
/// same dropout randomness and back-propagates through it. Activation memory drops from all blocks' intermediates to
/// one block's, for one extra forward pass of compute.
/// </summary>
internal sealed class CheckpointedLayer : autograd.SingleTensorFunction<CheckpointedLayer>
{
    public override string Name => nameof(CheckpointedLayer);

    /// <summary>Runs <paramref name="layer"/> on <paramref name="x"/> (which must require grad), checkpointed.</summary>
    public static Tensor Apply(BertLayer layer, Tensor x, Tensor additiveMask, (Tensor Key, Tensor Value)? prefix) =>
        apply(x, additiveMask, prefix?.Key, prefix?.Value, layer);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var (x, mask, prefixKey, prefixValue, layer) = ((Tensor)vars[0], (Tensor)vars[1], vars[2] as Tensor, vars[3] as Tensor, (BertLayer)vars[4]);
        var prefix = prefixKey is not null && prefixValue is not null ? (prefixKey, prefixValue) : ((Tensor, Tensor)?)null;
        ctx.save_for_backward(prefix is { } p ? [x, mask, p.Item1, p.Item2] : [x, mask]);
        ctx.save_data("layer", layer);
        // The generator state before the block's dropouts draw, replayed in backward so the recomputed block is the same one.
        using var rng = random.get_rng_state();
        ctx.save_data("rng", rng.data<byte>().ToArray());
        using (no_grad())
            return layer.forward(x, mask, prefix);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        var saved = ctx.get_saved_variables();
        var layer = (BertLayer)ctx.get_data("layer");
        var state = (byte[])ctx.get_data("rng");
        using var resume = random.get_rng_state();
        using (var replay = tensor(state, dtype: ScalarType.Byte))
            random.set_rng_state(replay);
        try
        {
            using var grad = enable_grad(true);
            var x = saved[0].detach().requires_grad_(true);
            var mask = saved[1];
            var prefix = saved.Count == 4 ? (saved[2].detach().requires_grad_(true), saved[3].detach().requires_grad_(true)) : ((Tensor, Tensor)?)null;
            var y = layer.forward(x, mask, prefix);
            // Accumulates the block's parameter gradients and fills the inputs' .grad.
            autograd.backward([y], [grad_output]);
            // One entry per forward argument: x, mask (none), prefix key and value, layer (none).
            Tensor? none = null;
            return [x.grad!, none!, (prefix?.Item1.grad ?? none)!, (prefix?.Item2.grad ?? none)!, none!];
        }
        finally
        {
            random.set_rng_state(resume);
        }
    }
}
