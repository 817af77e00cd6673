using PeftOnnx.Core.Adapters.Bottleneck;

namespace PeftOnnx.Core.Adapters.Fusion;

/// <summary>
/// The N bottleneck adapters of a fusion, loaded and checked once for the trainer (from --adapters) and the exporter
/// (from the fusion folder's copies): at least two, distinct names, all BOTTLENECK with the same sites (variant and
/// layers; widths and activations may differ), made for one base.
/// </summary>
public sealed class FusedAdapterSet
{
    private FusedAdapterSet(IReadOnlyList<string> names, IReadOnlyList<PeftAdapter> adapters)
    {
        Names = names;
        Adapters = adapters;
        Configs = [.. adapters.Select(a => (BottleneckConfig)a.Config)];
    }

    /// <summary>The fused adapters' names, in fusion order.</summary>
    public IReadOnlyList<string> Names { get; }

    public IReadOnlyList<PeftAdapter> Adapters { get; }

    public IReadOnlyList<BottleneckConfig> Configs { get; }

    public int Count => Adapters.Count;

    /// <summary>Where the adapters sit: every adapter's, checked to be the same.</summary>
    public BottleneckConfig Sites => Configs[0];

    /// <summary>The entries adapter_config.json lists.</summary>
    public IReadOnlyList<FusedAdapter> Entries => [.. Names.Zip(Adapters, (n, a) => new FusedAdapter(n, a.WeightsSha256))];

    /// <summary>Loads adapter folders named on the command line; each is named by its folder name.</summary>
    public static FusedAdapterSet FromFolders(IReadOnlyList<string> directories)
    {
        ArgumentNullException.ThrowIfNull(directories);
        if (directories.Count < 2)
            throw new ArgumentException($"a fusion combines at least 2 adapters, got {directories.Count}{(directories.Count == 1 ? $" ({directories[0]})" : "")}; pass --adapters a1,a2[,...], or train the one adapter alone.");
        var names = directories.Select(FolderName).ToList();
        RequireDistinct(names, directories);
        foreach (var (directory, name) in directories.Zip(names))
        {
            if (!Directory.Exists(directory))
                throw new DirectoryNotFoundException($"fused adapter {name}: folder {directory} does not exist.");
        }
        return Checked(names, [.. directories.Select(PeftAdapter.Load)]);
    }

    /// <summary>The copies a fusion folder holds under adapters/&lt;name&gt;/, each checked against the sha256 its config lists.</summary>
    public static FusedAdapterSet FromFusion(PeftAdapter fusion)
    {
        ArgumentNullException.ThrowIfNull(fusion);
        var config = (FusionConfig)fusion.Config;
        var adapters = new List<PeftAdapter>();
        foreach (var entry in config.Adapters)
        {
            var directory = Path.Combine(fusion.Directory, FusionConfig.AdapterFolder, entry.Name);
            if (!Directory.Exists(directory))
                throw new DirectoryNotFoundException($"{fusion.Directory}: fused adapter {entry.Name} is missing ({Path.Combine(FusionConfig.AdapterFolder, entry.Name)} does not exist); a fusion folder holds a copy of every adapter it fuses.");
            var adapter = PeftAdapter.Load(directory);
            if (!string.Equals(adapter.WeightsSha256, entry.Sha256, StringComparison.Ordinal))
                throw new InvalidDataException($"{fusion.Directory}: fused adapter {entry.Name} has sha256 {adapter.WeightsSha256[..12]}…, but {PeftAdapterConfig.FileName} lists {entry.Sha256[..12]}…; the copy was changed after the fusion was trained.");
            adapters.Add(adapter);
        }
        return Checked([.. config.Adapters.Select(a => a.Name)], adapters);
    }

    private static FusedAdapterSet Checked(List<string> names, List<PeftAdapter> adapters)
    {
        for (var i = 0; i < adapters.Count; i++)
        {
            if (adapters[i].Config is not BottleneckConfig)
                throw new InvalidDataException($"fused adapter {names[i]} ({adapters[i].Directory}) is a {adapters[i].Config.PeftType} adapter; a fusion combines {BottleneckConfig.TypeName} adapters (--method houlsby or pfeiffer).");
        }
        var configs = adapters.Select(a => (BottleneckConfig)a.Config).ToList();
        for (var i = 1; i < adapters.Count; i++)
        {
            if (configs[i].Variant != configs[0].Variant)
                throw new InvalidDataException($"fused adapter {names[i]} is a {configs[i].Variant} adapter but {names[0]} is {configs[0].Variant}; fused adapters sit at the same sites, so they are of one variant.");
            if (!SameLayers(configs[i].LayersToTransform, configs[0].LayersToTransform))
                throw new InvalidDataException($"fused adapter {names[i]} has layers_to_transform {Describe(configs[i].LayersToTransform)} but {names[0]} has {Describe(configs[0].LayersToTransform)}; fused adapters sit in the same layers.");
        }
        AdapterBaseCheck.RequireSameBase([.. adapters.Select(a => (a.Directory, a.Config.BaseModelNameOrPath))]);
        return new FusedAdapterSet(names, adapters);
    }

    private static void RequireDistinct(List<string> names, IReadOnlyList<string> directories)
    {
        var duplicate = names.Select((n, i) => (n, i)).GroupBy(x => x.n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"two fused adapters are named {duplicate.Key} (the folder name: {string.Join(", ", duplicate.Select(x => directories[x.i]))}); each adapter of a fusion needs its own name: rename a folder.");
    }

    private static string FolderName(string directory)
    {
        var name = Path.GetFileName(Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        try
        {
            FusionConfig.RequireName(name);
        }
        catch (InvalidDataException e)
        {
            throw new ArgumentException($"{directory}: {e.Message}; rename the folder.", e);
        }
        return name;
    }

    private static bool SameLayers(IReadOnlyList<int>? a, IReadOnlyList<int>? b) =>
        (a is null && b is null) || (a is not null && b is not null && a.Order().SequenceEqual(b.Order()));

    private static string Describe(IReadOnlyList<int>? layers) => layers is null ? "all" : $"[{string.Join(", ", layers)}]";
}
