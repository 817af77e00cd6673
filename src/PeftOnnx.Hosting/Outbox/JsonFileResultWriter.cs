using System.Text.Json;
using PeftOnnx.Hosting.Worker;

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
            try
            {
                using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
                {
                    JsonSerializer.Serialize(stream, records[i], ResultJson.Record);
                    stream.Flush(flushToDisk: true);
                }
                File.Move(temp, target, overwrite: true);
            }
            catch
            {
                // A full disk must not leave temp files behind to fill it further; the caller retries the batch.
                File.Delete(temp);
                throw;
            }
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

    /// <summary>Where the result for <paramref name="key"/> lives; ids that are not plain relative paths throw <see cref="ArgumentException"/>.</summary>
    public string PathFor(ResultKey key) =>
        DocumentIds.PathUnder(Directory, key.DocId, $".{key.ContentHash[..Math.Min(16, key.ContentHash.Length)]}.json");

    public void Dispose()
    {
    }
}
