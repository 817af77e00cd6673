using System.Text.Json;

namespace PeftOnnx.Hosting.Outbox;

/// <summary>
/// Appends results to one JSON Lines file, fsync'ing after each batch. On open, a torn last line (the process was
/// killed in the middle of a write) is cut off, so the file always holds whole records.
/// </summary>
public sealed class JsonlResultWriter : IResultWriter
{
    private readonly FileStream _stream;

    public string FilePath { get; }

    public JsonlResultWriter(string filePath, bool truncate = false)
    {
        FilePath = Path.GetFullPath(filePath);
        Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        _stream = new FileStream(FilePath, truncate ? FileMode.Create : FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        CutTornTail(_stream);
        _stream.Seek(0, SeekOrigin.End);
    }

    public IReadOnlyList<string> Write(IReadOnlyList<ResultRecord> records)
    {
        using var buffer = new MemoryStream();
        foreach (var record in records)
        {
            JsonSerializer.Serialize(buffer, record, ResultJson.Compact);
            buffer.WriteByte((byte)'\n');
        }
        buffer.Position = 0;
        buffer.CopyTo(_stream);
        _stream.Flush(flushToDisk: true);
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

    public void Dispose() => _stream.Dispose();

    private static void CutTornTail(FileStream stream)
    {
        var length = stream.Length;
        if (length == 0)
            return;
        // Walk back from the end to the last newline; everything after it is an unfinished record.
        var chunk = new byte[4096];
        var position = length;
        while (position > 0)
        {
            var size = (int)Math.Min(chunk.Length, position);
            position -= size;
            stream.Seek(position, SeekOrigin.Begin);
            stream.ReadExactly(chunk, 0, size);
            var newline = Array.LastIndexOf(chunk, (byte)'\n', size - 1, size);
            if (newline >= 0)
            {
                var end = position + newline + 1;
                if (end != length)
                {
                    stream.SetLength(end);
                    stream.Flush(flushToDisk: true);
                }
                return;
            }
        }
        stream.SetLength(0);
    }
}
