using PeftOnnx.Core.Adapters;

namespace PeftOnnx.Training.Methods;

/// <summary>
/// The hyper-parameters `peftonnx-export train` takes for every method (each method reads the ones it has), so the
/// command line declares each option once and the methods build themselves from it.
/// </summary>
public sealed record MethodSettings
{
    /// <summary>LoRA/DoRA rank (and LoReFT's).</summary>
    public int Rank { get; init; } = 8;

    /// <summary>LoRA/DoRA alpha; null means 2·r.</summary>
    public double? Alpha { get; init; }

    public double Dropout { get; init; } = 0.1;

    public bool RsLora { get; init; }

    /// <summary>Comma-separated target modules, "all-linear", or null for the method's default.</summary>
    public string? Targets { get; init; }

    /// <summary>IA3 feed-forward modules (input scaling), comma-separated.</summary>
    public string FeedForward { get; init; } = "output.dense";

    public int ReductionFactor { get; init; } = 16;

    public string NonLinearity { get; init; } = "relu";

    /// <summary>Prompt/prefix tuning: virtual tokens.</summary>
    public int VirtualTokens { get; init; } = 20;

    /// <summary>LoReFT: intervened layers, "all" or "0,2,4".</summary>
    public string Layers { get; init; } = "all";

    /// <summary>LoReFT: positions as pyreft writes them, "f1+l1" (first and last real token).</summary>
    public string Positions { get; init; } = "f1+l1";

    /// <summary>LoReFT: one (R, W, b) per layer for the prefix and suffix positions.</summary>
    public bool Tied { get; init; }

    /// <summary>Gated prompts: prompt vectors per layer.</summary>
    public int PromptLength { get; init; } = 10;

    /// <summary>Gated prompts: how many top layers carry prompts.</summary>
    public int PromptLayers { get; init; } = 6;

    /// <summary>AdapterFusion: the bottleneck adapter folders to fuse, in fusion order.</summary>
    public IReadOnlyList<string> Adapters { get; init; } = [];

    /// <summary>Stack: the frozen bottleneck adapter folders the new houlsby/pfeiffer adapter sits on, bottom first.</summary>
    public IReadOnlyList<string> StackOn { get; init; } = [];

    /// <summary><see cref="Targets"/> as PEFT's target_modules, or <paramref name="fallback"/> when none were given.</summary>
    public TargetModules TargetModulesOr(string fallback)
    {
        var text = string.IsNullOrWhiteSpace(Targets) ? fallback : Targets;
        return text == TargetModules.AllLinear ? TargetModules.FromPattern(text) : Names(text);
    }

    /// <summary>"a, b" as a target_modules list.</summary>
    public static TargetModules Names(string commaSeparated) =>
        TargetModules.FromNames(commaSeparated.Split(',').Select(t => t.Trim()).Where(t => t.Length > 0));
}
