using System.Text.Json;

namespace PeftOnnx.Cli.Commands.LoadGen;

/// <summary>
/// Realistic document texts for benchmarks: the debian-sections package descriptions (data/ or /work/shared/data),
/// or a fixed English paragraph when the data set is not around.
/// </summary>
internal static class BenchTexts
{
    public static IReadOnlyList<string> Load(string? file)
    {
        var candidates = file is not null ? [file] : new[]
        {
            Path.Combine(AppContext.BaseDirectory, "data", "debian-sections.test.jsonl"),
            Path.Combine(Directory.GetCurrentDirectory(), "data", "debian-sections.test.jsonl"),
            "/work/shared/data/debian-sections.test.jsonl",
        };
        var path = candidates.FirstOrDefault(File.Exists);
        if (path is null)
        {
            if (file is not null)
                throw new FileNotFoundException($"{file} does not exist; pass a .jsonl file with a \"text\" field per line.", file);
            return [.. Enumerable.Range(0, 64).Select(i =>
                $"Package {i} provides a small library and command-line tools for processing network traffic, fonts and images on Debian systems.")];
        }
        var texts = new List<string>();
        foreach (var line in File.ReadLines(path))
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.TryGetProperty("text", out var text) && text.GetString() is { Length: > 0 } t)
                texts.Add(t);
        }
        return texts;
    }
}
