namespace PeftOnnx.Export.Cli.Commands.Train;

/// <summary>
/// Named sets of `train` options (--preset), for trying the trainer without choosing every hyper-parameter; an option
/// given on the command line wins over its preset value. The method stays --method's (LoRA by default).
/// </summary>
internal sealed record TrainPreset(string Name, int MaxLength, int MaxSteps, int EvalSteps, double LearningRate)
{
    /// <summary>
    /// LoRA on 64 tokens for 150 steps of 32 (about two epochs of debian-sections), dev evaluated twice: measured in
    /// export-tools/README.md ("Quick start").
    /// </summary>
    public static readonly TrainPreset Quick = new("quick", MaxLength: 64, MaxSteps: 150, EvalSteps: 75, LearningRate: 2e-3);

    private static readonly TrainPreset[] All = [Quick];

    public static string[] Names => [.. All.Select(p => p.Name)];

    public static TrainPreset? Find(string? name) => name is null ? null : All.Single(p => p.Name == name);
}
