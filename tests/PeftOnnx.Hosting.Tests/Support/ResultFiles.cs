using System.Text.Json;

namespace PeftOnnx.Hosting.Tests.Support;

/// <summary>Reads what the worker wrote: JSONL lines or per-document result files, as (doc id, content hash, path).</summary>
internal static class ResultFiles
{
    public sealed record Entry(string DocId, string ContentHash, string Path, string? Label);

    public static IReadOnlyList<Entry> ReadJsonl(string file)
    {
        if (!File.Exists(file))
            return [];
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var entries = new List<Entry>();
        while (reader.ReadLine() is { } line)
        {
            // A line being written right now may be incomplete while the worker runs; only whole records count.
            if (line.Length == 0 || !line.EndsWith('}'))
                continue;
            entries.Add(Parse(line));
        }
        return entries;
    }

    public static int CountJsonlLines(string file)
    {
        if (!File.Exists(file))
            return 0;
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var count = 0;
        var buffer = new byte[65536];
        int read;
        while ((read = stream.Read(buffer)) > 0)
            count += buffer.AsSpan(0, read).Count((byte)'\n');
        return count;
    }

    public static IReadOnlyList<Entry> ReadJsonFiles(string folder) =>
        !Directory.Exists(folder) ? []
        : Directory.EnumerateFiles(folder, "*.json", SearchOption.AllDirectories)
            .Where(f => !System.IO.Path.GetFileName(f).StartsWith('.'))
            .Select(f => Parse(File.ReadAllText(f)))
            .ToList();

    public static int CountJsonFiles(string folder) =>
        !Directory.Exists(folder) ? 0
        : Directory.EnumerateFiles(folder, "*.json", SearchOption.AllDirectories).Count(f => !System.IO.Path.GetFileName(f).StartsWith('.'));

    private static Entry Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        return new Entry(
            root.GetProperty("doc_id").GetString()!,
            root.GetProperty("content_hash").GetString()!,
            root.GetProperty("path").GetString()!,
            root.TryGetProperty("label", out var label) ? label.GetString() : null);
    }
}
