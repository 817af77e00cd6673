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

    private static bool IsHead(string moduleName)
    {
        var last = moduleName[(moduleName.LastIndexOf('.') + 1)..];
        return HeadNames.Contains(last);
    }

    // PEFT's default layers_pattern list (layers, h, block, blocks, layer): BERT's is "layer".
    [GeneratedRegex(@"(?:^|\.)(?:layers|layer|h|block|blocks)\.(\d+)(?:\.|$)", RegexOptions.CultureInvariant)]
    private static partial Regex DefaultLayerIndex();
}
