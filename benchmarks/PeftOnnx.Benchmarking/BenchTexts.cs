using System.Text.Json;

namespace PeftOnnx.Benchmarking;

/// <summary>
/// Realistic document texts for benchmarks: a JSON-lines file with a "text" field per line, by default the
/// debian-sections test split in the repository's data/ folder (benchmarks run from the repository root).
/// </summary>
public static class BenchTexts
{
    public const string DefaultPath = "data/debian-sections.test.jsonl";

    public static IReadOnlyList<string> Load(string? file)
    {
        var path = file ?? DefaultPath;
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(file is null
                ? $"{Path.GetFullPath(path)} does not exist: run from the repository root, whose data/ folder holds the debian-sections split."
                : $"{path} does not exist; pass a .jsonl file with a \"text\" field per line.", path);
        }
        var texts = new List<string>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String && text.GetString() is { Length: > 0 } t)
                    texts.Add(t);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path} line {lineNumber} is not JSON: {e.Message}", e);
            }
        }
        return texts.Count > 0 ? texts : throw new InvalidDataException($"{path} has no line with a non-empty \"text\" field.");
    }
}
