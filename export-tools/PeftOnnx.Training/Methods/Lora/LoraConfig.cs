namespace PeftOnnx.Training.Methods.Lora;

/// <summary>LoRA hyper-parameters, as in PEFT's LoraConfig.</summary>
public sealed record LoraConfig
{
    public int R { get; init; } = 8;
    public double Alpha { get; init; } = 16;
    public double Dropout { get; init; } = 0.1;
    public IReadOnlyList<string> TargetModules { get; init; } = ["query", "value"];
    /// <summary>Rank-stabilised scaling alpha / sqrt(r) instead of alpha / r.</summary>
    public bool UseRsLora { get; init; }
    /// <summary>Weight-decomposed LoRA (DoRA): a learned magnitude per output row.</summary>
    public bool UseDora { get; init; }

    public double Scaling => UseRsLora ? Alpha / Math.Sqrt(R) : Alpha / R;

    public void Validate()
    {
        if (R <= 0)
            throw new ArgumentException($"`r` should be positive, got {R}.");
        if (Alpha <= 0 || double.IsNaN(Alpha))
            throw new ArgumentException($"`lora_alpha` should be positive, got {Alpha}.");
        if (Dropout is < 0 or >= 1)
            throw new ArgumentException($"`lora_dropout` should be in [0, 1), got {Dropout}.");
        if (TargetModules.Count == 0)
            throw new ArgumentException("`target_modules` is empty; name at least one Linear layer (e.g. query,value).");
    }
}
