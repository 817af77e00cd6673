using System.Text.Json;
using PeftOnnx.Runtime.Documents;

namespace PeftOnnx.Runtime.Evaluation;

/// <summary>
/// Reads labelled data for `peftonnx eval`: a .jsonl file of {"id", "label", "text"} objects (the
/// data/debian-sections format; multi-label rows have "labels": [...] instead of "label"), a .csv file with text and label columns, or a folder with one subfolder per
/// label holding documents. Malformed rows are errors naming the file and line: an evaluation on silently
/// dropped rows would report a wrong accuracy.
/// </summary>
public static class LabelledDataReader
{
    public static IReadOnlyList<LabelledExample> Read(string path, DocumentReader? documents = null)
    {
        if (Directory.Exists(path))
            return FromFolders(path, documents ?? new DocumentReader());
        if (!File.Exists(path))
            throw new FileNotFoundException($"Evaluation data {path} does not exist; pass a .jsonl or .csv file with text and label, or a folder with one subfolder per label.", path);
        var examples = Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".jsonl" or ".ndjson" => FromJsonLines(path),
            ".csv" => FromCsv(path),
            var other => throw new InvalidDataException($"Evaluation data {path}: unsupported extension '{other}'; use .jsonl, .csv or a folder per label."),
        };
        return examples.Count > 0 ? examples : throw new InvalidDataException($"Evaluation data {path} holds no examples.");
    }

    private static List<LabelledExample> FromJsonLines(string path)
    {
        var examples = new List<LabelledExample>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            try
            {
                using var document = JsonDocument.Parse(line);
                var root = document.RootElement;
                var text = StringField(root, "text", path, lineNumber);
                var id = root.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String
                    ? idElement.GetString()!
                    : $"{path}#L{lineNumber}";
                examples.Add(root.TryGetProperty("labels", out var labels) && !root.TryGetProperty("label", out _)
                    ? new LabelledExample(id, text, "") { Labels = LabelList(labels, path, lineNumber) }
                    : new LabelledExample(id, text, StringField(root, "label", path, lineNumber)));
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path} line {lineNumber} is not valid JSON: {e.Message}", e);
            }
        }
        return examples;
    }

    /// <summary>A "labels" list: non-empty strings, none twice; an empty list is an item with none of the labels.</summary>
    private static string[] LabelList(JsonElement labels, string path, int line)
    {
        if (labels.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{path} line {line}: \"labels\" must be a list of strings, got {labels.ValueKind}.");
        var names = new List<string>();
        foreach (var item in labels.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(item.GetString()))
                throw new InvalidDataException($"{path} line {line}: \"labels\" holds {item.GetRawText()}; every label must be a non-empty string.");
            var name = item.GetString()!.Trim();
            if (names.Contains(name, StringComparer.Ordinal))
                throw new InvalidDataException($"{path} line {line}: \"labels\" lists '{name}' twice.");
            names.Add(name);
        }
        return [.. names];
    }

    private static string StringField(JsonElement root, string name, string path, int line) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString())
            ? value.GetString()!
            : throw new InvalidDataException($"{path} line {line} has no non-empty string \"{name}\" field.");

    private static List<LabelledExample> FromCsv(string path)
    {
        var records = CsvRecords.Parse(File.ReadAllText(path)).ToList();
        if (records.Count == 0)
            throw new InvalidDataException($"{path} is empty.");
        var header = records[0].Fields.Select(h => h.Trim().ToLowerInvariant()).ToArray();
        var text = Array.IndexOf(header, "text");
        var label = Array.IndexOf(header, "label");
        if (text < 0 || label < 0)
            throw new InvalidDataException($"{path}: the CSV header needs \"text\" and \"label\" columns, it has {string.Join(", ", records[0].Fields)}.");
        var id = Array.IndexOf(header, "id");
        return records.Skip(1).Select(r =>
        {
            if (r.Fields.Length <= Math.Max(text, label))
                throw new InvalidDataException($"{path} line {r.Line} has {r.Fields.Length} fields, the header has {header.Length}.");
            if (string.IsNullOrWhiteSpace(r.Fields[label]))
                throw new InvalidDataException($"{path} line {r.Line} has an empty label.");
            return new LabelledExample(id >= 0 && id < r.Fields.Length ? r.Fields[id] : $"{path}#row{r.Line}", r.Fields[text], r.Fields[label].Trim());
        }).ToList();
    }

    private static List<LabelledExample> FromFolders(string root, DocumentReader documents)
    {
        var examples = new List<LabelledExample>();
        foreach (var labelDir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            var label = Path.GetFileName(labelDir);
            if (label.StartsWith('.'))
                continue;
            foreach (var file in DocumentWalker.Walk([labelDir]))
            {
                foreach (var document in documents.Read(file))
                {
                    if (document.IsSkipped)
                        throw new InvalidDataException($"{document.Path} cannot be evaluated: {document.SkipReason}. Remove it from the evaluation folder.");
                    examples.Add(new LabelledExample(Path.GetRelativePath(root, document.Path), document.Text!, label));
                }
            }
        }
        return examples.Count > 0
            ? examples
            : throw new InvalidDataException($"{root} has no documents in label subfolders; expected {root}/<label>/<document>.");
    }
}
