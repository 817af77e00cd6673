using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace PeftOnnx.Core.Adapters;

/// <summary>
/// PEFT's <c>target_modules</c> (also <c>feedforward_modules</c>, <c>exclude_modules</c>): either a list of names,
/// matched exactly or as a dotted suffix, or one regular expression string that must match the whole module name.
/// </summary>
[JsonConverter(typeof(TargetModulesJsonConverter))]
public sealed record TargetModules
{
    /// <summary>PEFT's shorthand for "every Linear layer except the output head".</summary>
    public const string AllLinear = "all-linear";

    private readonly Regex? _regex;

    private TargetModules(IReadOnlyList<string>? names, string? pattern)
    {
        Names = names;
        Pattern = pattern;
        if (pattern is not null && pattern != AllLinear)
        {
            try
            {
                _regex = new Regex($"^(?:{pattern})$", RegexOptions.CultureInvariant);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"target module pattern \"{pattern}\" is not a valid regular expression: {e.Message}", e);
            }
        }
    }

    /// <summary>The list form, or null for the regex form.</summary>
    public IReadOnlyList<string>? Names { get; }

    /// <summary>The regex form (PEFT: <c>re.fullmatch</c>), or null for the list form.</summary>
    public string? Pattern { get; }

    public bool IsAllLinear => Pattern == AllLinear;

    public static TargetModules FromNames(params IEnumerable<string> names) => new([.. names], null);

    public static TargetModules FromPattern(string pattern) => new(null, pattern);

    /// <summary>
    /// PEFT's <c>check_target_module_exists</c>: regex = full match; list = equal, or ends with "." + entry
    /// (so "dense" matches pooler.dense too). "all-linear" is resolved by <see cref="AdapterTargetMatcher"/>.
    /// </summary>
    public bool Matches(string moduleName)
    {
        ArgumentNullException.ThrowIfNull(moduleName);
        if (_regex is not null)
            return _regex.IsMatch(moduleName);
        if (Names is null)
            return false;
        foreach (var entry in Names)
        {
            if (moduleName == entry || moduleName.EndsWith("." + entry, StringComparison.Ordinal))
                return true;
        }
        return false;
    }

    /// <summary>The entry that matches <paramref name="moduleName"/> (the pattern itself for the regex form).</summary>
    public string? MatchingEntry(string moduleName)
    {
        if (Pattern is not null)
            return Matches(moduleName) ? Pattern : null;
        return Names?.FirstOrDefault(e => moduleName == e || moduleName.EndsWith("." + e, StringComparison.Ordinal));
    }

    public override string ToString() => Pattern is not null ? $"\"{Pattern}\"" : $"[{string.Join(", ", Names ?? [])}]";
}
