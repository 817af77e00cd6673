using System.Text;
using System.Text.Json;
using PeftOnnx.Core.Files;

namespace PeftOnnx.Runtime.Documents;

/// <summary>
/// Reads document files into text. .txt, .md and unknown extensions are plain text; .html/.htm keep only
/// the readable text; .json gives its "text" field (or all its string values); .jsonl gives one document per
/// line (path#L&lt;line&gt;) and .csv one per row (path#row&lt;line&gt;) from the text field. Anything that is not
/// a readable UTF-8 document (binary, invalid UTF-8, empty, too large, unreadable, vanished, not a regular
/// file) comes back as a skipped <see cref="DocumentText"/> with the reason; nothing here throws for a bad file.
/// </summary>
public sealed class DocumentReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly DocumentReaderOptions _options;

    public DocumentReader(DocumentReaderOptions? options = null)
    {
        _options = options ?? new DocumentReaderOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxBytes, 1);
    }

    public IEnumerable<DocumentText> Read(string path)
    {
        var text = ReadText(path, out var skip);
        if (skip is not null)
            return [skip];
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".html" or ".htm" or ".xhtml" => [NonBlank(path, HtmlText.Extract(text!))],
            ".json" => [FromJson(path, text!)],
            ".jsonl" or ".ndjson" => FromJsonLines(path, text!),
            ".csv" => FromCsv(path, text!),
            _ => [NonBlank(path, text!)],
        };
    }

    private string? ReadText(string path, out DocumentText? skip)
    {
        skip = null;
        var kind = FileKind.Of(path);
        switch (kind)
        {
            case FileKind.Kind.Missing:
                skip = DocumentText.Gone(path, "not found (deleted or moved before it could be read)");
                return null;
            case FileKind.Kind.Directory:
                skip = DocumentText.Skipped(path, "is a directory");
                return null;
            case FileKind.Kind.Fifo or FileKind.Kind.Socket or FileKind.Kind.CharacterDevice or FileKind.Kind.BlockDevice:
                skip = DocumentText.Skipped(path, $"not a regular file ({kind.ToString().ToLowerInvariant()})");
                return null;
        }

        byte[] bytes;
        try
        {
            using var stream = RegularFile.OpenRead(path, 1); // a FIFO swapped in after the check above is refused, not waited on
            if (stream.CanSeek && stream.Length > _options.MaxBytes)
            {
                skip = DocumentText.Skipped(path, $"too large ({stream.Length:N0} bytes; the limit is {_options.MaxBytes:N0})");
                return null;
            }
            bytes = ReadAtMost(stream, _options.MaxBytes + 1);
        }
        catch (FileNotFoundException)
        {
            skip = DocumentText.Gone(path, "not found (deleted or moved before it could be read)");
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            skip = DocumentText.Gone(path, "not found (its folder is gone)");
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            skip = DocumentText.Skipped(path, $"unreadable: {e.Message}");
            return null;
        }

        if (bytes.Length > _options.MaxBytes)
        {
            skip = DocumentText.Skipped(path, $"too large (more than the limit of {_options.MaxBytes:N0} bytes)");
            return null;
        }
        if (bytes.Length == 0)
        {
            skip = DocumentText.Skipped(path, "empty file");
            return null;
        }
        var nul = Array.IndexOf(bytes, (byte)0);
        if (nul >= 0)
        {
            skip = DocumentText.Skipped(path, $"binary (NUL byte at offset {nul})");
            return null;
        }
        var body = bytes.AsSpan();
        if (body.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
            body = body[3..];
        try
        {
            return StrictUtf8.GetString(body);
        }
        catch (DecoderFallbackException e)
        {
            var offset = e.Index >= 0 ? $" at byte {e.Index + (bytes.Length - body.Length)}" : "";
            skip = DocumentText.Skipped(path, $"not valid UTF-8{offset}; convert it to UTF-8 to score it");
            return null;
        }
    }

    private static byte[] ReadAtMost(Stream stream, long limit)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while (buffer.Length < limit && (read = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, limit - buffer.Length))) > 0)
            buffer.Write(chunk, 0, read);
        return buffer.ToArray();
    }

    private static DocumentText NonBlank(string path, string text) =>
        string.IsNullOrWhiteSpace(text) ? DocumentText.Skipped(path, "no text (only whitespace or markup)") : DocumentText.Ok(path, text);

    private DocumentText FromJson(string path, string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty(_options.TextField, out var field) && field.ValueKind == JsonValueKind.String)
                return NonBlank(path, field.GetString()!);
            var strings = new List<string>();
            CollectStrings(root, strings);
            return NonBlank(path, string.Join('\n', strings));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // JsonDocument checks a string's escapes only when it is read: "\ud800" alone fails in GetString.
            return DocumentText.Skipped(path, $"invalid JSON: {e.Message}");
        }
    }

    private static void CollectStrings(JsonElement element, List<string> strings)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                strings.Add(element.GetString()!);
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                    CollectStrings(item, strings);
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                    CollectStrings(property.Value, strings);
                break;
        }
    }

    private IEnumerable<DocumentText> FromJsonLines(string path, string text)
    {
        var lineNumber = 0;
        var any = false;
        foreach (var line in text.Split('\n'))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            any = true;
            var id = $"{path}#L{lineNumber}";
            DocumentText result;
            try
            {
                using var document = JsonDocument.Parse(line);
                result = document.RootElement.ValueKind == JsonValueKind.Object
                         && document.RootElement.TryGetProperty(_options.TextField, out var field)
                         && field.ValueKind == JsonValueKind.String
                    ? NonBlank(id, field.GetString()!)
                    : DocumentText.Skipped(id, $"line is not a JSON object with a string \"{_options.TextField}\" field");
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                result = DocumentText.Skipped(id, $"invalid JSON: {e.Message}");
            }
            yield return result;
        }
        if (!any)
            yield return DocumentText.Skipped(path, "no text (only blank lines)");
    }

    private List<DocumentText> FromCsv(string path, string text)
    {
        List<(int Line, string[] Fields)> records;
        try
        {
            records = CsvRecords.Parse(text).ToList();
        }
        catch (InvalidDataException e)
        {
            return [DocumentText.Skipped(path, $"invalid CSV: {e.Message}")];
        }
        if (records.Count == 0)
            return [DocumentText.Skipped(path, "no text (no CSV records)")];
        var header = records[0].Fields;
        var column = Array.FindIndex(header, h => string.Equals(h.Trim(), _options.TextField, StringComparison.OrdinalIgnoreCase));
        if (column < 0)
            return [DocumentText.Skipped(path, $"no \"{_options.TextField}\" column in the CSV header (columns: {string.Join(", ", header)})")];
        if (records.Count == 1)
            return [DocumentText.Skipped(path, "no text (CSV header only)")];
        return records.Skip(1).Select(r =>
        {
            var id = $"{path}#row{r.Line}";
            return column < r.Fields.Length
                ? NonBlank(id, r.Fields[column])
                : DocumentText.Skipped(id, $"row has {r.Fields.Length} fields, the \"{_options.TextField}\" column is field {column + 1}");
        }).ToList();
    }
}
