namespace PeftOnnx.Training.Methods.Ia3;

/// <summary>IA3 hyper-parameters, as in PEFT's IA3Config.</summary>
public sealed record Ia3Config
{
    public IReadOnlyList<string> TargetModules { get; init; } = ["key", "value", "output.dense"];
    /// <summary>Targets whose input (not output) is scaled; each must also be a target.</summary>
    public IReadOnlyList<string> FeedforwardModules { get; init; } = ["output.dense"];

    public void Validate()
    {
        if (TargetModules.Count == 0)
            throw new ArgumentException("`target_modules` is empty; IA3 needs at least one Linear layer (e.g. key,value,output.dense).");
        var stray = FeedforwardModules.Where(f => !TargetModules.Contains(f)).ToList();
        if (stray.Count > 0)
            throw new ArgumentException($"`feedforward_modules` [{string.Join(", ", stray)}] must be a subset of `target_modules` [{string.Join(", ", TargetModules)}].");
    }
}
