using System.Text;
using System.Text.Json;
using PeftOnnx.Runtime.Documents;

namespace PeftOnnx.Training.Data;

/// <summary>
/// Reads labelled documents from JSON lines ({"text": ..., "label": ...} per line, or {"text": ..., "labels": [...]}
/// for multi-label data), CSV (a header with text and label columns), or a folder with one sub-folder per label
/// holding one document per file.
/// </summary>
public static class TextClassificationData
{
    public static IReadOnlyList<LabeledText> Read(string path)
    {
        if (Directory.Exists(path))
            return ReadFolder(path);
        if (!File.Exists(path))
            throw new DatasetFormatException($"{path} does not exist; give a .jsonl or .csv file, or a folder with one sub-folder per label.");
        var extension = Path.GetExtension(path).ToLowerInvariant();
        return extension switch
        {
            ".jsonl" or ".json" or ".ndjson" => ReadJsonLines(path),
            ".csv" => ReadCsv(path),
            _ => throw new DatasetFormatException($"{path}: unknown data format '{extension}'; use .jsonl, .csv or a folder per label."),
        };
    }

    private static List<LabeledText> ReadJsonLines(string path)
    {
        var rows = new List<LabeledText>();
        var lineNumber = 0;
        foreach (var line in ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            var where = $"{path}:{lineNumber}";
            JsonElement root;
            try
            {
                using var doc = JsonDocument.Parse(line);
                root = doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new DatasetFormatException($"{where} is not valid JSON: {e.Message}", e);
            }
            if (root.ValueKind != JsonValueKind.Object)
                throw new DatasetFormatException($"{where} must be a JSON object with \"text\" and \"label\" (or \"labels\").");
            rows.Add(root.TryGetProperty("labels", out var labels) && !root.TryGetProperty("label", out _)
                ? MultiLabelRow(Field(root, "text", where), labels, where)
                : Row(Field(root, "text", where), Field(root, "label", where), where));
        }
        return Checked(rows, path);
    }

    private static string Field(JsonElement row, string name, string where)
    {
        if (!row.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            throw new DatasetFormatException($"{where} has no \"{name}\" field.");
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString()!,
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
            _ => throw new DatasetFormatException($"{where}: \"{name}\" must be a string or number, got {value.ValueKind}."),
        };
    }

    private static List<LabeledText> ReadCsv(string path)
    {
        var rows = new List<LabeledText>();
        List<(int Line, string[] Fields)> records;
        using (var reader = OpenText(path))
        {
            try
            {
                records = [.. CsvRecords.Parse(reader.ReadToEnd())];
            }
            catch (InvalidDataException e)
            {
                throw new DatasetFormatException($"{path}: {e.Message}.", e);
            }
        }
        int textColumn = -1, labelColumn = -1;
        foreach (var (line, fields) in records)
        {
            if (textColumn < 0)
            {
                var header = fields.Select(f => f.Trim().ToLowerInvariant()).ToList();
                textColumn = header.IndexOf("text");
                labelColumn = header.IndexOf("label");
                if (textColumn < 0 || labelColumn < 0)
                    throw new DatasetFormatException($"{path}: the header [{string.Join(",", fields)}] needs a 'text' and a 'label' column.");
                continue;
            }
            if (fields is [""])
                continue;
            var where = $"{path}:{line}";
            if (fields.Length <= Math.Max(textColumn, labelColumn))
                throw new DatasetFormatException($"{where} has {fields.Length} field(s); the header names {Math.Max(textColumn, labelColumn) + 1} or more.");
            rows.Add(Row(fields[textColumn], fields[labelColumn], where));
        }
        if (textColumn < 0)
            throw new DatasetFormatException($"{path} is empty; it needs a header with 'text' and 'label' columns.");
        return Checked(rows, path);
    }

    private static List<LabeledText> ReadFolder(string path)
    {
        var labels = Directory.GetDirectories(path).OrderBy(d => d, StringComparer.Ordinal).ToList();
        if (labels.Count == 0)
            throw new DatasetFormatException($"{path} has no sub-folders; a folder dataset holds one sub-folder per label with one document per file.");
        var rows = new List<LabeledText>();
        foreach (var dir in labels)
        {
            var label = Path.GetFileName(dir);
            var files = Directory.GetFiles(dir, "*", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal).ToList();
            if (files.Count == 0)
                throw new DatasetFormatException($"label '{label}' has no examples: {dir} holds no files; add documents or remove the folder.");
            foreach (var file in files)
            {
                string text;
                try
                {
                    text = File.ReadAllText(file, new UTF8Encoding(false, throwOnInvalidBytes: true));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or DecoderFallbackException)
                {
                    throw new DatasetFormatException($"{file} cannot be read as UTF-8 text: {e.Message}", e);
                }
                rows.Add(Row(text, label, file));
            }
        }
        return Checked(rows, path);
    }

    private static LabeledText Row(string text, string label, string where)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new DatasetFormatException($"{where}: the text is empty; remove the row or give it text.");
        if (string.IsNullOrWhiteSpace(label))
            throw new DatasetFormatException($"{where}: the label is empty.");
        return new LabeledText(text, label.Trim(), where);
    }

    /// <summary>A row with a "labels" list: strings, no blanks or repeats; an empty list is a document with none of the labels.</summary>
    private static LabeledText MultiLabelRow(string text, JsonElement labels, string where)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new DatasetFormatException($"{where}: the text is empty; remove the row or give it text.");
        if (labels.ValueKind != JsonValueKind.Array)
            throw new DatasetFormatException($"{where}: \"labels\" must be a list of strings, got {labels.ValueKind}.");
        var names = new List<string>();
        foreach (var item in labels.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(item.GetString()))
                throw new DatasetFormatException($"{where}: \"labels\" holds {item.GetRawText()}; every label must be a non-empty string.");
            var name = item.GetString()!.Trim();
            if (names.Contains(name, StringComparer.Ordinal))
                throw new DatasetFormatException($"{where}: \"labels\" lists '{name}' twice.");
            names.Add(name);
        }
        return new LabeledText(text, names.Count > 0 ? names[0] : "", where) { Labels = names };
    }

    private static List<LabeledText> Checked(List<LabeledText> rows, string path)
    {
        if (rows.Count == 0)
            throw new DatasetFormatException($"{path} holds no examples.");
        return rows;
    }

    private static StreamReader OpenText(string path)
    {
        try
        {
            return new StreamReader(path, new UTF8Encoding(false, throwOnInvalidBytes: true));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetFormatException($"{path} cannot be read: {e.Message}", e);
        }
    }

    private static IEnumerable<string> ReadLines(string path)
    {
        using var reader = OpenText(path);
        while (true)
        {
            string? line;
            try
            {
                line = reader.ReadLine();
            }
            catch (DecoderFallbackException e)
            {
                throw new DatasetFormatException($"{path} is not valid UTF-8: {e.Message}", e);
            }
            if (line is null)
                yield break;
            yield return line;
        }
    }
}
