namespace PeftOnnx.Training.Methods.PrefixTuning;

/// <summary>Prefix tuning hyper-parameters, as in PEFT's PrefixTuningConfig (without the MLP re-parametrisation).</summary>
public sealed record PrefixTuningConfig
{
    public int NumVirtualTokens { get; init; } = 20;

    public void Validate()
    {
        if (NumVirtualTokens <= 0)
            throw new ArgumentException($"`num_virtual_tokens` should be positive, got {NumVirtualTokens}.");
    }
}
