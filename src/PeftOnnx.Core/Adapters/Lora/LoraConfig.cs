using System.Text.RegularExpressions;

namespace PeftOnnx.Core.Adapters.Lora;

/// <summary>
/// PEFT's LoraConfig (peft_type "LORA"), including DoRA (<c>use_dora</c>) and rsLoRA (<c>use_rslora</c>).
/// Defaults are PEFT 0.21's.
/// </summary>
public sealed record LoraConfig : PeftAdapterConfig
{
    public const string TypeName = "LORA";

    private static readonly string[] BiasModes = ["none", "all", "lora_only"];

    public override string PeftType => TypeName;

    public int R { get; init; } = 8;
    public double LoraAlpha { get; init; } = 8;
    public double LoraDropout { get; init; }
    public TargetModules? TargetModules { get; init; }
    public TargetModules? ExcludeModules { get; init; }

    /// <summary>True when the base layer stores its weight [in, out] (GPT-2 Conv1D). PEFT resets it for nn.Linear.</summary>
    public bool FanInFanOut { get; init; }

    /// <summary>"none", "all" or "lora_only": which base biases were trained (and saved) alongside.</summary>
    public string Bias { get; init; } = "none";

    public bool UseRslora { get; init; }
    public bool UseDora { get; init; }

    /// <summary>lora_B carries a bias; merged as b' = b + s * lora_B.bias.</summary>
    public bool LoraBias { get; init; }

    /// <summary>Per-module rank overrides; keys are regex fragments matched against the end of the module name.</summary>
    public IReadOnlyDictionary<string, int> RankPattern { get; init; } = new Dictionary<string, int>();

    /// <summary>Per-module alpha overrides, matched like <see cref="RankPattern"/>.</summary>
    public IReadOnlyDictionary<string, double> AlphaPattern { get; init; } = new Dictionary<string, double>();

    public IReadOnlyList<int>? LayersToTransform { get; init; }
    public string? LayersPattern { get; init; }

    public override void Validate()
    {
        if (R <= 0)
            throw Invalid($"`r` should be positive, got {R}");
        if (!double.IsFinite(LoraAlpha))
            throw Invalid($"`lora_alpha` should be a finite number, got {LoraAlpha}");
        if (LoraDropout is < 0 or > 1 || double.IsNaN(LoraDropout))
            throw Invalid($"`lora_dropout` should be in [0, 1], got {LoraDropout}");
        if (!BiasModes.Contains(Bias))
            throw Invalid($"`bias` should be one of {string.Join(", ", BiasModes)}, got \"{Bias}\"");
        if (TargetModules is null)
            throw Invalid("`target_modules` is null; list the modules to adapt (e.g. [\"query\", \"value\"]) or give a regex");
        if (TargetModules.Names is { Count: 0 })
            throw Invalid("`target_modules` is an empty list; name at least one module (e.g. [\"query\", \"value\"])");
        if (LayersToTransform is not null && TargetModules.Pattern is not null)
            throw Invalid("`layers_to_transform` cannot be used when `target_modules` is a regex string");
        if (UseDora && LoraBias)
            throw Invalid("`use_dora` does not support `lora_bias`; set one of them to false");
        foreach (var (pattern, rank) in RankPattern)
        {
            if (rank <= 0)
                throw Invalid($"`rank_pattern` entry \"{pattern}\" should be positive, got {rank}");
        }
        foreach (var (pattern, alpha) in AlphaPattern)
        {
            if (!double.IsFinite(alpha))
                throw Invalid($"`alpha_pattern` entry \"{pattern}\" should be a finite number, got {alpha}");
        }
    }

    /// <summary>The rank of <paramref name="moduleName"/>: the first matching rank_pattern entry, else r.</summary>
    public int RankFor(string moduleName) => PatternValue(RankPattern, moduleName, R);

    /// <summary>The alpha of <paramref name="moduleName"/>: the first matching alpha_pattern entry, else lora_alpha.</summary>
    public double AlphaFor(string moduleName) => PatternValue(AlphaPattern, moduleName, LoraAlpha);

    /// <summary>s = alpha / r, or alpha / sqrt(r) with rsLoRA, using the module's own rank and alpha.</summary>
    public double ScaleFor(string moduleName)
    {
        var r = RankFor(moduleName);
        var alpha = AlphaFor(moduleName);
        return UseRslora ? alpha / Math.Sqrt(r) : alpha / r;
    }

    public override AdapterTargetMatcher CreateMatcher() =>
        new(TargetModules ?? throw Invalid("`target_modules` is null"), ExcludeModules, LayersToTransform, LayersPattern);

    // PEFT's get_pattern_key: re.match(rf"(.*\.)?({key})$", module), first key in insertion order wins.
    private static T PatternValue<T>(IReadOnlyDictionary<string, T> patterns, string moduleName, T fallback)
    {
        foreach (var (pattern, value) in patterns)
        {
            if (Regex.IsMatch(moduleName, $@"^(?:.*\.)?(?:{pattern})$", RegexOptions.CultureInvariant))
                return value;
        }
        return fallback;
    }
}
