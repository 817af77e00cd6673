using PeftOnnx.Fuzz.Targets;

namespace PeftOnnx.Fuzz;

/// <summary>Every fuzz target, by name; a new parser of untrusted bytes adds one line here and one file under Targets/.</summary>
public static class FuzzTargets
{
    public static IReadOnlyList<string> Names { get; } =
        ["safetensors", "onnx-adapter", "adapter-config", "bundle", "model-folder", "http-body", "document"];

    /// <summary>A new instance (targets own scratch folders; dispose is at process exit).</summary>
    public static FuzzTarget Create(string name) => name switch
    {
        "safetensors" => new SafeTensorsTarget(),
        "onnx-adapter" => new OrtAdapterTarget(),
        "adapter-config" => new AdapterConfigTarget(),
        "bundle" => new BundleManifestTarget(),
        "model-folder" => new ModelFolderTarget(),
        "http-body" => new HttpBodyTarget(),
        "document" => new DocumentTarget(),
        _ => throw new ArgumentException($"unknown fuzz target '{name}'; targets: {string.Join(", ", Names)}.", nameof(name)),
    };

    /// <summary>corpus/&lt;target&gt;/ next to the executable (copied from tests/PeftOnnx.Fuzz/corpus at build time).</summary>
    public static string CorpusFolder(string name) => Path.Combine(AppContext.BaseDirectory, "corpus", name);

    /// <summary>The seed inputs of a target, in file-name order.</summary>
    public static IReadOnlyList<(string Path, byte[] Bytes)> Corpus(string name)
    {
        var folder = CorpusFolder(name);
        if (!Directory.Exists(folder))
            return [];
        return [.. Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal).Select(p => (p, File.ReadAllBytes(p)))];
    }
}
