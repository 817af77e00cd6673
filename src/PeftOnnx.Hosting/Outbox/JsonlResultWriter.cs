using System.Text.Json;

namespace PeftOnnx.Hosting.Outbox;

/// <summary>
/// Appends results to one JSON Lines file, fsync'ing after each batch. A torn last line (the process was killed in
/// the middle of a write) or a failed append (a full disk) is cut off (<see cref="LineFile"/>), so the file always
/// holds whole records, each once.
/// </summary>
public sealed class JsonlResultWriter : IResultWriter
{
    private readonly LineFile _file;

    public string FilePath { get; }

    public JsonlResultWriter(string filePath, bool truncate = false)
    {
        FilePath = Path.GetFullPath(filePath);
        _file = new LineFile(FilePath, truncate);
    }

    public IReadOnlyList<string> Write(IReadOnlyList<ResultRecord> records)
    {
        using var buffer = new MemoryStream();
        foreach (var record in records)
        {
            JsonSerializer.Serialize(buffer, record, ResultJson.Record);
            buffer.WriteByte((byte)'\n');
        }
        _file.Append(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        return Enumerable.Repeat(FilePath, records.Count).ToArray();
    }

    public IReadOnlyDictionary<ResultKey, string> FindExisting(IReadOnlyCollection<ResultKey> candidates)
    {
        var found = new Dictionary<ResultKey, string>();
        if (candidates.Count == 0)
            return found;
        var wanted = candidates.ToHashSet();
        foreach (var key in ReadKeys(FilePath))
        {
            if (wanted.Contains(key))
                found[key] = FilePath;
        }
        return found;
    }

    /// <summary>The keys of every whole record in a results file, in order (a torn last line is ignored).</summary>
    public static IEnumerable<ResultKey> ReadKeys(string filePath)
    {
        if (!File.Exists(filePath))
            yield break;
        using var stream = new FileStream(filePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            if (ResultJson.TryReadKey(System.Text.Encoding.UTF8.GetBytes(line)) is { } key)
                yield return key;
        }
    }

    public void Dispose() => _file.Dispose();
}
