namespace PeftOnnx.Core.Adapters.Ia3;

/// <summary>
/// PEFT's IA3Config (peft_type "IA3"): learned vectors that scale the output of target modules, or the input of
/// the feed-forward ones.
/// </summary>
public sealed record Ia3Config : PeftAdapterConfig
{
    public const string TypeName = "IA3";

    public override string PeftType => TypeName;

    public TargetModules? TargetModules { get; init; }
    public TargetModules? ExcludeModules { get; init; }

    /// <summary>Modules whose input (not output) is scaled; must be a subset of target_modules.</summary>
    public TargetModules? FeedforwardModules { get; init; }

    public bool FanInFanOut { get; init; }
    public bool InitIa3Weights { get; init; } = true;

    public override void Validate()
    {
        if (TargetModules is null)
            throw Invalid("`target_modules` is null; list the modules to scale (e.g. [\"key\", \"value\", \"output.dense\"]) or give a regex");
        if (TargetModules.Names is { Count: 0 })
            throw Invalid("`target_modules` is an empty list; name at least one module");
        if (FeedforwardModules?.Names is { } ff && TargetModules.Names is { } targets)
        {
            var stray = ff.Where(f => !targets.Contains(f)).ToList();
            if (stray.Count > 0)
                throw Invalid($"`feedforward_modules` should be a subset of `target_modules` {TargetModules}, got extra {string.Join(", ", stray)}");
        }
    }

    /// <summary>PEFT's rule for IA3: a module is feed-forward when its name ends with a feedforward_modules entry.</summary>
    public bool IsFeedforward(string moduleName)
    {
        ArgumentNullException.ThrowIfNull(moduleName);
        if (FeedforwardModules is null)
            return false;
        if (FeedforwardModules.Pattern is not null)
            return FeedforwardModules.Matches(moduleName);
        return FeedforwardModules.Names!.Any(f => moduleName.EndsWith(f, StringComparison.Ordinal));
    }

    public override AdapterTargetMatcher CreateMatcher() =>
        new(TargetModules ?? throw Invalid("`target_modules` is null"), ExcludeModules);
}
