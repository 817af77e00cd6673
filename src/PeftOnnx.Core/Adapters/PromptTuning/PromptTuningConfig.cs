namespace PeftOnnx.Core.Adapters.PromptTuning;

/// <summary>
/// PEFT's PromptTuningConfig (peft_type "PROMPT_TUNING"): <c>prompt_embeddings</c> [num_virtual_tokens, token_dim]
/// are input embeddings prepended to the word embeddings.
/// </summary>
public sealed record PromptTuningConfig : PeftAdapterConfig
{
    public const string TypeName = "PROMPT_TUNING";

    private static readonly string[] InitModes = ["RANDOM", "TEXT", "SAMPLE_VOCAB"];

    public override string PeftType => TypeName;

    public int NumVirtualTokens { get; init; }
    public int TokenDim { get; init; }
    public int NumTransformerSubmodules { get; init; } = 1;
    public int NumAttentionHeads { get; init; }
    public int NumLayers { get; init; }
    public string PromptTuningInit { get; init; } = "RANDOM";
    public string? PromptTuningInitText { get; init; }
    public string? TokenizerNameOrPath { get; init; }

    public override void Validate()
    {
        if (NumVirtualTokens <= 0)
            throw Invalid($"`num_virtual_tokens` should be positive, got {NumVirtualTokens}");
        if (TokenDim <= 0)
            throw Invalid($"`token_dim` should be positive, got {TokenDim}");
        if (NumTransformerSubmodules != 1)
            throw Invalid($"`num_transformer_submodules` should be 1 for an encoder, got {NumTransformerSubmodules}");
        if (!InitModes.Contains(PromptTuningInit))
            throw Invalid($"`prompt_tuning_init` should be one of {string.Join(", ", InitModes)}, got \"{PromptTuningInit}\"");
        if (PromptTuningInit == "TEXT" && string.IsNullOrEmpty(PromptTuningInitText))
            throw Invalid("`prompt_tuning_init` is TEXT but `prompt_tuning_init_text` is empty");
    }
}
