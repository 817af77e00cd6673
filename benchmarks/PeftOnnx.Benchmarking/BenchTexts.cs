using PeftOnnx.Runtime.Documents;

namespace PeftOnnx.Benchmarking;

/// <summary>
/// Realistic document texts for benchmarks, read by the runtime's <see cref="DocumentReader"/> (a .jsonl file gives
/// one text per line from its "text" field): by default the debian-sections test split in the repository's data/
/// folder (benchmarks run from the repository root).
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
        foreach (var document in new DocumentReader().Read(path))
        {
            if (document.IsSkipped)
                throw new InvalidDataException($"{document.Path}: {document.SkipReason}; benchmark texts need every line to be a JSON object with a non-empty \"text\".");
            texts.Add(document.Text!);
        }
        return texts;
    }
}
