using TorchSharp;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Encoder;

/// <summary>An extra attention a method adds to a layer's self-attention (gated prompts), read with the layer's own projections.</summary>
public interface IAttentionPrompt
{
    /// <param name="query">The layer's queries (B, heads, T, d).</param>
    /// <param name="key">The layer's key projection.</param>
    /// <param name="value">The layer's value projection.</param>
    /// <returns>What to add to the attention context, (B, heads, T, d).</returns>
    Tensor Attend(Tensor query, nn.Module<Tensor, Tensor> key, nn.Module<Tensor, Tensor> value);
}
