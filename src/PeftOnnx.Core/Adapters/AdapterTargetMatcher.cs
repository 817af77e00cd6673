using System.Globalization;
using System.Text.RegularExpressions;

namespace PeftOnnx.Core.Adapters;

/// <summary>
/// Decides which modules of a base model an adapter wraps, by PEFT's rules (<c>check_target_module_exists</c>):
/// target_modules (list: exact or "."-suffix; string: full regex match; "all-linear"), then exclude_modules,
/// then layers_to_transform (the index after "layer." in the module name).
/// </summary>
public sealed partial class AdapterTargetMatcher
{
    /// <summary>PEFT's SEQ_CLS_HEAD_NAMES: "all-linear" never wraps the classification head.</summary>
    private static readonly string[] HeadNames = ["classifier", "score"];

    private readonly TargetModules _targets;
    private readonly TargetModules? _exclude;
    private readonly HashSet<int>? _layers;
    private readonly Regex _layerIndex;

    public AdapterTargetMatcher(TargetModules targets, TargetModules? exclude = null, IEnumerable<int>? layersToTransform = null, string? layersPattern = null)
    {
        _targets = targets ?? throw new ArgumentNullException(nameof(targets));
        _exclude = exclude;
        _layers = layersToTransform is null ? null : new HashSet<int>(layersToTransform);
        _layerIndex = layersPattern is null
            ? DefaultLayerIndex()
            : new Regex($@"(?:^|\.){Regex.Escape(layersPattern)}\.(\d+)(?:\.|$)", RegexOptions.CultureInvariant);
    }

    /// <summary>Whether a Linear module named <paramref name="moduleName"/> is wrapped.</summary>
    public bool Matches(string moduleName)
    {
        ArgumentNullException.ThrowIfNull(moduleName);
        var targeted = _targets.IsAllLinear ? !IsHead(moduleName) : _targets.Matches(moduleName);
        if (!targeted || (_exclude?.Matches(moduleName) ?? false))
            return false;
        if (_layers is null)
            return true;
        var m = _layerIndex.Match(moduleName);
        return m.Success && _layers.Contains(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
    }

    /// <summary>The wrapped modules among <paramref name="linearModules"/> (the base model's Linear layers), in order.</summary>
    public IReadOnlyList<string> Select(IEnumerable<string> linearModules) => [.. linearModules.Where(Matches)];

    /// <summary>target_modules list entries that match none of <paramref name="modules"/> (for warnings and errors).</summary>
    public IReadOnlyList<string> UnmatchedEntries(IEnumerable<string> modules)
    {
        if (_targets.Names is null)
            return [];
        var all = modules.ToList();
        return [.. _targets.Names.Where(entry => !all.Any(m => TargetModules.FromNames(entry).Matches(m)))];
    }

    /// <summary>
    /// PEFT raises when target_modules selects no module of the base ("Target modules ... not found in the base
    /// model"), and so does this, naming the patterns and the modules there are; list entries that match nothing
    /// while others match are reported in <paramref name="warnings"/>, as PEFT only warns about them.
    /// </summary>
    /// <param name="linearModules">The base model's Linear modules, relative to the encoder.</param>
    /// <param name="baseName">The base model, for the message.</param>
    /// <param name="available">The modules as the message should list them (e.g. a compact summary).</param>
    /// <param name="warnings">Where unmatched list entries are reported.</param>
    public void RequireAnyMatch(IReadOnlyCollection<string> linearModules, string baseName, string available, ICollection<string> warnings)
    {
        ArgumentNullException.ThrowIfNull(linearModules);
        ArgumentNullException.ThrowIfNull(warnings);
        if (!linearModules.Any(Matches))
        {
            var narrowed = (_exclude is null ? "" : $", exclude_modules {_exclude}") + (_layers is null ? "" : $", layers_to_transform [{string.Join(", ", _layers.Order())}]");
            throw new InvalidDataException(
                $"target_modules {_targets}{narrowed} match no Linear module of {baseName}, so the adapter would change nothing; " +
                $"its Linear modules are {available}. Fix target_modules in {PeftAdapterConfig.FileName}.");
        }
        var unmatched = UnmatchedEntries(linearModules);
        if (unmatched.Count > 0)
            warnings.Add($"target_modules entries {string.Join(", ", unmatched)} match no Linear module of {baseName}.");
    }

    private static bool IsHead(string moduleName)
    {
        var last = moduleName[(moduleName.LastIndexOf('.') + 1)..];
        return HeadNames.Contains(last);
    }

    // PEFT's default layers_pattern list (layers, h, block, blocks, layer): BERT's is "layer".
    [GeneratedRegex(@"(?:^|\.)(?:layers|layer|h|block|blocks)\.(\d+)(?:\.|$)", RegexOptions.CultureInvariant)]
    private static partial Regex DefaultLayerIndex();
}
