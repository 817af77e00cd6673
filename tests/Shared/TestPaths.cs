namespace PeftOnnx.Tests;

/// <summary>Locates the repository (the folder holding PeftOnnx.sln) and its fixtures from a test's output folder.</summary>
internal static class TestPaths
{
    private static readonly Lazy<string> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PeftOnnx.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"PeftOnnx.sln not found above {AppContext.BaseDirectory}.");
    });

    public static string RepoRoot => Root.Value;

    /// <summary>tests/fixtures, copied next to the test assembly at build time.</summary>
    public static string Fixtures => Path.Combine(AppContext.BaseDirectory, "fixtures");

    public static string Fixture(params string[] parts) => Path.Combine([Fixtures, .. parts]);

    public static string Data(string file) => Path.Combine(RepoRoot, "data", file);
}
