using System.Text.Json;

namespace PeftOnnx.Models.Hub;

/// <summary>A model revision as <c>GET /api/models/ORG/NAME/revision/REV?blobs=true</c> describes it: the commit and its files.</summary>
public sealed record HubRevision(string Commit, IReadOnlyDictionary<string, HubFile> Files)
{
    /// <summary>Reads the API's JSON; anything the download relies on (commit sha, sizes, hashes) is checked here.</summary>
    public static HubRevision Parse(string json, string source)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var commit = root.TryGetProperty("sha", out var sha) && sha.ValueKind == JsonValueKind.String ? sha.GetString()! : "";
            if (commit.Length != 40 || !commit.All(char.IsAsciiHexDigitLower))
                throw new InvalidDataException($"{source}: the revision's sha is '{commit}', not a 40-digit commit id.");
            var files = new Dictionary<string, HubFile>(StringComparer.Ordinal);
            if (!root.TryGetProperty("siblings", out var siblings) || siblings.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{source}: the answer lists no files (siblings).");
            foreach (var sibling in siblings.EnumerateArray())
            {
                var path = sibling.GetProperty("rfilename").GetString() ?? "";
                long size = sibling.TryGetProperty("size", out var s) && s.TryGetInt64(out var n) ? n : -1;
                string? sha256 = null;
                if (sibling.TryGetProperty("lfs", out var lfs) && lfs.ValueKind == JsonValueKind.Object)
                {
                    sha256 = lfs.GetProperty("sha256").GetString();
                    if (lfs.TryGetProperty("size", out var lfsSize) && lfsSize.TryGetInt64(out var m))
                        size = m;
                }
                var blob = sibling.TryGetProperty("blobId", out var b) && b.ValueKind == JsonValueKind.String ? b.GetString() : null;
                files[path] = new HubFile(path, size, sha256, blob);
            }
            return new HubRevision(commit, files);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidDataException($"{source}: the answer is not the Hub's model revision JSON ({e.Message}).", e);
        }
    }
}
