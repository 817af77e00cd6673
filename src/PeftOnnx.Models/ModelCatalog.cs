using PeftOnnx.Core.Json;
using PeftOnnx.Core.Models;

namespace PeftOnnx.Models;

/// <summary>
/// The base models the repository knows: one folder per model under models/, each with a model.json.
/// Pulled files (model.onnx, vocab.txt) live next to the manifest.
/// </summary>
public sealed class ModelCatalog
{
    /// <summary>Environment variable that overrides where the models/ folder is.</summary>
    public const string ModelsDirVariable = "PEFTONNX_MODELS";

    public ModelCatalog(string modelsDir)
    {
        ModelsDir = Path.GetFullPath(modelsDir);
    }

    public string ModelsDir { get; }

    /// <summary>
    /// Finds the models/ folder: <paramref name="explicitDir"/> (--models-dir), else $PEFTONNX_MODELS, else
    /// models/ in the repository (the first folder holding PeftOnnx.sln above the current directory or the program).
    /// </summary>
    public static ModelCatalog Locate(string? explicitDir = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitDir))
            return new ModelCatalog(explicitDir);
        var fromEnv = Environment.GetEnvironmentVariable(ModelsDirVariable);
        if (!string.IsNullOrWhiteSpace(fromEnv))
            return new ModelCatalog(fromEnv);
        var root = FindRepoRoot(Directory.GetCurrentDirectory()) ?? FindRepoRoot(AppContext.BaseDirectory)
            ?? throw new DirectoryNotFoundException(
                $"No models folder: PeftOnnx.sln was not found above {Directory.GetCurrentDirectory()} or {AppContext.BaseDirectory}. " +
                $"Run from inside the repository, pass --models-dir, or set {ModelsDirVariable}.");
        return new ModelCatalog(Path.Combine(root, "models"));
    }

    /// <summary>The first folder at or above <paramref name="start"/> that holds PeftOnnx.sln, or null.</summary>
    public static string? FindRepoRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PeftOnnx.sln")))
                return dir.FullName;
        }
        return null;
    }

    /// <summary>Names of all models with a manifest, sorted.</summary>
    public IReadOnlyList<string> Names =>
        Directory.Exists(ModelsDir)
            ? Directory.EnumerateDirectories(ModelsDir)
                .Where(d => File.Exists(Path.Combine(d, ModelManifest.FileName)))
                .Select(Path.GetFileName)
                .OfType<string>()
                .Order(StringComparer.Ordinal)
                .ToList()
            : [];

    public bool Contains(string name) =>
        IsPlainName(name) && File.Exists(Path.Combine(ModelsDir, name, ModelManifest.FileName));

    public string ModelDir(string name) => Path.Combine(ModelsDir, name);

    /// <summary>Reads models/&lt;name&gt;/model.json; an unknown name is an error that lists the known ones.</summary>
    public ModelManifest Get(string name)
    {
        if (!Contains(name))
        {
            var known = Names;
            throw new UnknownModelException(name, known,
                $"Unknown model '{name}'. Known models: {(known.Count == 0 ? $"none (no model.json under {ModelsDir})" : string.Join(", ", known))}.");
        }
        var manifest = PeftJson.Load<ModelManifest>(Path.Combine(ModelDir(name), ModelManifest.FileName));
        if (manifest.Name != name)
            throw new InvalidDataException($"{Path.Combine(ModelDir(name), ModelManifest.FileName)} names model '{manifest.Name}' but lives in folder '{name}'; rename one so they match.");
        return manifest;
    }

    // A model name is a folder name, never a path: "../x" or "a/b" must not escape models/.
    private static bool IsPlainName(string name) =>
        !string.IsNullOrWhiteSpace(name) && name.IndexOfAny(['/', '\\']) < 0 && name is not "." and not "..";
}
