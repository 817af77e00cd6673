using PeftOnnx.Models;

namespace PeftOnnx.Cli.Commands.Common;

/// <summary>Turns a --model value into a folder: an existing folder as given, else a base model name from the catalog.</summary>
internal static class ModelLocator
{
    public static string Resolve(string model, string? modelsDir)
    {
        if (Directory.Exists(model))
            return model;
        if (LooksLikePath(model))
            throw new DirectoryNotFoundException($"--model {model}: no such folder; pass a bundle folder, a pulled base model folder or a base model name.");
        var catalog = ModelCatalog.Locate(modelsDir);
        if (catalog.Contains(model))
            return catalog.ModelDir(model);
        var known = catalog.Names;
        throw new DirectoryNotFoundException(
            $"--model {model}: no such folder, and not a known base model name (known: {(known.Count == 0 ? "none" : string.Join(", ", known))}).");
    }

    private static bool LooksLikePath(string value) =>
        value.Contains('/', StringComparison.Ordinal) || value.Contains('\\', StringComparison.Ordinal) || value.StartsWith('.');
}
