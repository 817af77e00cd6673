using PeftOnnx.Core.Files;
using PeftOnnx.Core.Models;

namespace PeftOnnx.Core.Adapters.Bottleneck;

/// <summary>
/// Bottleneck adapters trained before and frozen inside another method's model: the N adapters of a fusion
/// (AdapterHub's Fuse), the lower adapters of a stack (Stack). Loaded and checked once for the trainer (from the
/// command line's folders) and the exporter (from the copies the composition's folder holds): distinct names, all
/// BOTTLENECK with the same sites (variant and layers; widths and activations may differ), made for one base.
/// </summary>
public sealed class FrozenAdapterSet
{
    /// <summary>The folder, inside the composition's folder, that holds the adapters' copies.</summary>
    public const string Folder = "adapters";

    /// <summary>The adapters' module list under each site in the composition's model: <c>&lt;site&gt;.adapter.adapters.&lt;k&gt;.down.weight</c>.</summary>
    public const string Module = "adapters";

    /// <summary>The files a copy holds; training.json records the base the adapter was trained on, which the base checks read.</summary>
    private static readonly string[] CopiedFiles = [PeftAdapterConfig.FileName, PeftAdapter.WeightsFileName, "training.json"];

    private FrozenAdapterSet(string role, IReadOnlyList<string> names, IReadOnlyList<PeftAdapter> adapters)
    {
        Role = role;
        Names = names;
        Adapters = adapters;
        Configs = [.. adapters.Select(a => (BottleneckConfig)a.Config)];
    }

    /// <summary>What the adapters are to the composition, for messages: "fused adapter", "stacked-on adapter".</summary>
    public string Role { get; }

    /// <summary>The adapters' names, in composition order.</summary>
    public IReadOnlyList<string> Names { get; }

    public IReadOnlyList<PeftAdapter> Adapters { get; }

    public IReadOnlyList<BottleneckConfig> Configs { get; }

    public int Count => Adapters.Count;

    /// <summary>Where the adapters sit: every adapter's, checked to be the same.</summary>
    public BottleneckConfig Sites => Configs[0];

    /// <summary>The entries adapter_config.json lists.</summary>
    public IReadOnlyList<FrozenAdapter> Entries => [.. Names.Zip(Adapters, (n, a) => new FrozenAdapter(n, a.WeightsSha256))];

    /// <summary>Loads adapter folders named on the command line; each is named by its folder name.</summary>
    public static FrozenAdapterSet FromFolders(IReadOnlyList<string> directories, string role)
    {
        ArgumentNullException.ThrowIfNull(directories);
        var names = directories.Select(FolderName).ToList();
        var duplicate = names.Select((n, i) => (n, i)).GroupBy(x => x.n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"two {role}s are named {duplicate.Key} (the folder name: {string.Join(", ", duplicate.Select(x => directories[x.i]))}); each needs its own name: rename a folder.");
        foreach (var (directory, name) in directories.Zip(names))
        {
            if (!Directory.Exists(directory))
                throw new DirectoryNotFoundException($"{role} {name}: folder {directory} does not exist.");
        }
        return Checked(role, names, [.. directories.Select(PeftAdapter.Load)]);
    }

    /// <summary>The copies <paramref name="owner"/>'s folder holds under adapters/&lt;name&gt;/, each checked against the sha256 <paramref name="entries"/> lists.</summary>
    public static FrozenAdapterSet FromCopies(PeftAdapter owner, IReadOnlyList<FrozenAdapter> entries, string role)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(entries);
        var adapters = new List<PeftAdapter>();
        foreach (var entry in entries)
        {
            var directory = Path.Combine(owner.Directory, Folder, entry.Name);
            if (!Directory.Exists(directory))
                throw new DirectoryNotFoundException($"{owner.Directory}: {role} {entry.Name} is missing ({Path.Combine(Folder, entry.Name)} does not exist); the folder holds a copy of every adapter it names.");
            var adapter = PeftAdapter.Load(directory);
            if (!string.Equals(adapter.WeightsSha256, entry.Sha256, StringComparison.Ordinal))
                throw new InvalidDataException($"{owner.Directory}: {role} {entry.Name} has sha256 {adapter.WeightsSha256[..12]}…, but {PeftAdapterConfig.FileName} lists {entry.Sha256[..12]}…; the copy was changed after training.");
            adapters.Add(adapter);
        }
        return Checked(role, [.. entries.Select(a => a.Name)], adapters);
    }

    /// <summary>Copies every adapter folder (its adapter_config.json, weights and training.json) into <paramref name="folder"/>/adapters/&lt;name&gt;/.</summary>
    public void CopyInto(string folder)
    {
        for (var k = 0; k < Count; k++)
        {
            var target = Path.Combine(folder, Folder, Names[k]);
            Directory.CreateDirectory(target);
            foreach (var file in CopiedFiles)
            {
                var path = Path.Combine(Adapters[k].Directory, file);
                if (File.Exists(path))
                    File.WriteAllBytes(Path.Combine(target, file), RegularFile.ReadAllBytes(path));
            }
        }
    }

    /// <summary>
    /// Throws unless every adapter was made for <paramref name="target"/>, the base the composition trains on (the
    /// model.onnx sha256 of its training.json, else base_model_name_or_path; <see cref="AdapterBaseCheck"/>).
    /// </summary>
    public void RequireBase(BaseModelIdentity target)
    {
        ArgumentNullException.ThrowIfNull(target);
        for (var k = 0; k < Count; k++)
        {
            if (AdapterBaseCheck.Mismatch(Adapters[k].Directory, Adapters[k].Config.BaseModelNameOrPath, target) is { } mismatch)
                throw new InvalidDataException($"{Role} {Names[k]}: {mismatch}; train on the base it was made for, or retrain it on this one.");
        }
    }

    /// <summary>
    /// Where adapter <paramref name="index"/>'s tensor goes in the composition's model, from its own name relative to
    /// the encoder: <c>encoder.layer.0.output.adapter.down.weight</c> → <c>encoder.layer.0.output.adapter.adapters.1.down.weight</c>.
    /// The trainer's module tree and the side graph's inputs both use these names.
    /// </summary>
    public static string Parameter(string adapterParameter, int index)
    {
        ArgumentNullException.ThrowIfNull(adapterParameter);
        const string Site = ".adapter.";
        var at = adapterParameter.LastIndexOf(Site, StringComparison.Ordinal);
        if (at < 0)
            throw new InvalidDataException($"adapter tensor {adapterParameter} is not a bottleneck adapter parameter (<site>.adapter.<down|up>.<weight|bias>)");
        return $"{adapterParameter[..at]}{Site}{Module}.{index}.{adapterParameter[(at + Site.Length)..]}";
    }

    /// <summary>The module of adapter <paramref name="index"/> at an adapter site: <c>encoder.layer.0.output.adapter.adapters.1</c>.</summary>
    public static string ModuleAt(string adapterModule, int index) => $"{adapterModule}.{Module}.{index}";

    private static FrozenAdapterSet Checked(string role, List<string> names, List<PeftAdapter> adapters)
    {
        for (var i = 0; i < adapters.Count; i++)
        {
            if (adapters[i].Config is not BottleneckConfig)
                throw new InvalidDataException($"{role} {names[i]} ({adapters[i].Directory}) is a {adapters[i].Config.PeftType} adapter; only {BottleneckConfig.TypeName} adapters (--method houlsby or pfeiffer) compose.");
        }
        var configs = adapters.Select(a => (BottleneckConfig)a.Config).ToList();
        for (var i = 1; i < adapters.Count; i++)
        {
            if (configs[i].Variant != configs[0].Variant)
                throw new InvalidDataException($"{role} {names[i]} is a {configs[i].Variant} adapter but {names[0]} is {configs[0].Variant}; composed adapters sit at the same sites, so they are of one variant.");
            if (!SameLayers(configs[i].LayersToTransform, configs[0].LayersToTransform))
                throw new InvalidDataException($"{role} {names[i]} has layers_to_transform {DescribeLayers(configs[i].LayersToTransform)} but {names[0]} has {DescribeLayers(configs[0].LayersToTransform)}; composed adapters sit in the same layers.");
        }
        AdapterBaseCheck.RequireSameBase([.. adapters.Select(a => (a.Directory, a.Config.BaseModelNameOrPath))]);
        return new FrozenAdapterSet(role, names, adapters);
    }

    private static string FolderName(string directory)
    {
        var name = Path.GetFileName(Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        try
        {
            FrozenAdapter.RequireName(name);
        }
        catch (InvalidDataException e)
        {
            throw new ArgumentException($"{directory}: {e.Message}; rename the folder.", e);
        }
        return name;
    }

    /// <summary>Whether two layers_to_transform select the same layers (null = all).</summary>
    public static bool SameLayers(IReadOnlyList<int>? a, IReadOnlyList<int>? b) =>
        (a is null && b is null) || (a is not null && b is not null && a.Order().SequenceEqual(b.Order()));

    /// <summary>"all" or "[0, 2]", for messages.</summary>
    public static string DescribeLayers(IReadOnlyList<int>? layers) => layers is null ? "all" : $"[{string.Join(", ", layers)}]";
}
