namespace PeftOnnx.Core.Adapters.PrefixTuning;

/// <summary>
/// PEFT's PrefixTuningConfig (peft_type "PREFIX_TUNING"): <c>prompt_embeddings</c>
/// [num_virtual_tokens, num_layers * 2 * token_dim] hold per-layer keys and values (interleaved K, V per layer).
/// </summary>
public sealed record PrefixTuningConfig : PeftAdapterConfig
{
    public const string TypeName = "PREFIX_TUNING";

    public override string PeftType => TypeName;

    public int NumVirtualTokens { get; init; }
    public int TokenDim { get; init; }
    public int NumLayers { get; init; }
    public int NumAttentionHeads { get; init; }
    public int NumTransformerSubmodules { get; init; } = 1;
    public int? EncoderHiddenSize { get; init; }

    /// <summary>True: an MLP re-parametrises the prefix during training (PEFT saves the projected table).</summary>
    public bool PrefixProjection { get; init; }

    public override void Validate()
    {
        if (NumVirtualTokens <= 0)
            throw Invalid($"`num_virtual_tokens` should be positive, got {NumVirtualTokens}");
        if (TokenDim <= 0)
            throw Invalid($"`token_dim` should be positive, got {TokenDim}");
        if (NumLayers <= 0)
            throw Invalid($"`num_layers` should be positive, got {NumLayers}");
        if (NumAttentionHeads <= 0 || TokenDim % NumAttentionHeads != 0)
            throw Invalid($"`num_attention_heads` should divide `token_dim` ({TokenDim}), got {NumAttentionHeads}");
        if (NumTransformerSubmodules != 1)
            throw Invalid($"`num_transformer_submodules` should be 1 for an encoder, got {NumTransformerSubmodules}");
    }

    /// <summary>Width of one row of prompt_embeddings: num_layers * 2 (key, value) * token_dim.</summary>
    public int PrefixWidth => NumLayers * 2 * TokenDim;
}
