using System.Text.Json;

namespace PeftOnnx.Cli.Commands.Common;

/// <summary>The texts of --text T... (one or more) or --input F.jsonl (one {"text": ...} object per line), exactly one of them.</summary>
internal static class TextInputs
{
    /// <summary>One text to process and where it came from: (null, i) for --text, (file line, null) for --input.</summary>
    public sealed record Item(string Text, int? Line, int? Index);

    public static IEnumerable<Item> Read(string[]? texts, FileInfo? input)
    {
        var hasTexts = texts is { Length: > 0 };
        if (hasTexts == (input is not null))
            throw new UsageException("Pass exactly one of --text T... or --input FILE.jsonl.");
        return hasTexts ? texts!.Select((t, i) => new Item(t, null, i)) : ReadLines(input!);
    }

    private static IEnumerable<Item> ReadLines(FileInfo input)
    {
        if (!input.Exists)
            throw new FileNotFoundException($"--input {input.FullName} does not exist.", input.FullName);
        var lineNumber = 0;
        foreach (var line in File.ReadLines(input.FullName))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            string? text;
            try
            {
                using var document = JsonDocument.Parse(line);
                text = document.RootElement.ValueKind == JsonValueKind.Object
                       && document.RootElement.TryGetProperty("text", out var field)
                       && field.ValueKind == JsonValueKind.String
                    ? field.GetString()
                    : null;
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"--input {input.Name} line {lineNumber} is not valid JSON: {e.Message}", e);
            }
            yield return text is null
                ? throw new InvalidDataException($"--input {input.Name} line {lineNumber} is not a JSON object with a string \"text\" field.")
                : new Item(text, lineNumber, null);
        }
    }
}
