using System.Text.Json;

namespace PeftOnnx.Benchmarks;

/// <summary>Finds the repository (and its data/ and models/) from wherever BenchmarkDotNet runs the benchmark process.</summary>
public static class BenchmarkData
{
    private static readonly Lazy<string> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PeftOnnx.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"PeftOnnx.sln not found above {AppContext.BaseDirectory}; run the benchmarks from inside the repository.");
    });

    public static string RepoRoot => Root.Value;

    public static string Model(string name, string file) => Path.Combine(RepoRoot, "models", name, file);

    /// <summary>The "text" field of each line of data/&lt;file&gt; (debian-sections JSON lines).</summary>
    public static string[] Texts(string file) =>
        File.ReadLines(Path.Combine(RepoRoot, "data", file))
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("text").GetString()!)
            .ToArray();
}
