using static TorchSharp.torch;

namespace PeftOnnx.Training.Encoder;

/// <summary>One padded batch of token ids: input_ids, attention_mask and token_type_ids, each (B, T) int64.</summary>
public sealed class EncoderBatch(Tensor inputIds, Tensor attentionMask, Tensor tokenTypeIds) : IDisposable
{
    public Tensor InputIds { get; } = inputIds;
    public Tensor AttentionMask { get; } = attentionMask;
    public Tensor TokenTypeIds { get; } = tokenTypeIds;

    public long Size => InputIds.shape[0];
    public long Length => InputIds.shape[1];

    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
        TokenTypeIds.Dispose();
    }
}
