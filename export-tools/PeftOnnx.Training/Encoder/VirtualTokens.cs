using static TorchSharp.torch;

namespace PeftOnnx.Training.Encoder;

/// <summary>
/// What prompt-learning methods add to a batch: prompt tuning prepends input embeddings
/// (<see cref="Prompt"/>, (B, P, H)); prefix tuning prepends keys and values in every layer
/// (<see cref="Prefixes"/>, each (B, heads, P, headDim)) and shifts real positions by P.
/// </summary>
public sealed record VirtualTokens(Tensor? Prompt, IReadOnlyList<(Tensor Key, Tensor Value)>? Prefixes)
{
    public long Count => Prompt?.shape[1] ?? Prefixes?[0].Key.shape[2] ?? 0;
}
