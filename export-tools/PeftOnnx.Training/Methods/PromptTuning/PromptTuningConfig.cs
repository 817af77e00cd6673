namespace PeftOnnx.Training.Methods.PromptTuning;

/// <summary>Prompt tuning hyper-parameters, as in PEFT's PromptTuningConfig.</summary>
public sealed record PromptTuningConfig
{
    public int NumVirtualTokens { get; init; } = 20;
    /// <summary>SAMPLE_VOCAB (rows of the word embedding table, PEFT's option) or RANDOM (N(0, 1), nn.Embedding's default).</summary>
    public string Init { get; init; } = "SAMPLE_VOCAB";

    public void Validate()
    {
        if (NumVirtualTokens <= 0)
            throw new ArgumentException($"`num_virtual_tokens` should be positive, got {NumVirtualTokens}.");
        if (Init is not ("SAMPLE_VOCAB" or "RANDOM"))
            throw new ArgumentException($"`prompt_tuning_init` '{Init}' is not SAMPLE_VOCAB or RANDOM.");
    }
}
