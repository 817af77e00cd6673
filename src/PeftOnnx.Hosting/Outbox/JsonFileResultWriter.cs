using System.Text.Json;

namespace PeftOnnx.Hosting.Outbox;

/// <summary>
/// Writes one &lt;doc id&gt;.&lt;first 16 hash digits&gt;.json per document under the outbox folder, mirroring the document's
/// sub-folders. Each file is written to a temp name, fsync'd and renamed, so a reader never sees half a result and a
/// second write of the same key replaces the first: idempotent across crashes, re-deliveries and machines.
/// </summary>
public sealed class JsonFileResultWriter(string directory) : IResultWriter
{
    public string Directory { get; } = System.IO.Path.GetFullPath(directory);

    public IReadOnlyList<string> Write(IReadOnlyList<ResultRecord> records)
    {
        var locations = new string[records.Count];
        for (var i = 0; i < records.Count; i++)
        {
            var target = PathFor(records[i].Key);
            System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
            var temp = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(target)!, $".{System.IO.Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                JsonSerializer.Serialize(stream, records[i], ResultJson.Compact);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, target, overwrite: true);
            locations[i] = target;
        }
        return locations;
    }

    public IReadOnlyDictionary<ResultKey, string> FindExisting(IReadOnlyCollection<ResultKey> candidates)
    {
        var found = new Dictionary<ResultKey, string>();
        foreach (var key in candidates)
        {
            var path = PathFor(key);
            if (File.Exists(path))
                found[key] = path;
        }
        return found;
    }

    /// <summary>Where the result for <paramref name="key"/> lives.</summary>
    public string PathFor(ResultKey key)
    {
        var relative = key.DocId.Replace('\\', '/').TrimStart('/');
        if (relative.Split('/').Any(part => part is ".." or "."))
            throw new ArgumentException($"document id '{key.DocId}' climbs out of the outbox; ids are relative paths without '..'.", nameof(key));
        return System.IO.Path.Combine(Directory, $"{relative}.{key.ContentHash[..Math.Min(16, key.ContentHash.Length)]}.json");
    }

    public void Dispose()
    {
    }
}
