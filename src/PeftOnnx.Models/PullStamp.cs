using System.Text.Json.Serialization.Metadata;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.Models;

namespace PeftOnnx.Models;

/// <summary>
/// models/&lt;name&gt;/.pulled.json: records that each pulled file was hashed and matched the manifest, with the
/// size and modification time it had then, so a later pull or list can trust an unchanged file without
/// re-hashing 90 MB. Any change of size, time or expected hash sends the file back to full verification.
/// </summary>
public sealed record PullStamp(IReadOnlyList<PullStamp.VerifiedFile> Files)
{
    public const string FileName = ".pulled.json";

    private static readonly JsonTypeInfo<PullStamp> ReadInfo = PeftJson.ReadOptions.With(ModelsJsonContext.Default).TypeInfo<PullStamp>();
    private static readonly JsonTypeInfo<PullStamp> WriteInfo = PeftJson.Options.With(ModelsJsonContext.Default).TypeInfo<PullStamp>();

    public sealed record VerifiedFile(string Name, string Sha256, long Size, long ModifiedUtcTicks);

    public static VerifiedFile Describe(string path, string sha256)
    {
        var info = new FileInfo(path);
        return new VerifiedFile(info.Name, sha256, info.Length, info.LastWriteTimeUtc.Ticks);
    }

    /// <summary>True when the stamp vouches for <paramref name="file"/> exactly as it is on disk now.</summary>
    public bool Vouches(string modelDir, ModelFile file)
    {
        var entry = Files.FirstOrDefault(f => f.Name == file.Name);
        if (entry is null || !string.Equals(entry.Sha256, file.Sha256, StringComparison.OrdinalIgnoreCase))
            return false;
        var info = new FileInfo(Path.Combine(modelDir, file.Name));
        return info.Exists && info.Length == entry.Size && info.Length == file.Size && info.LastWriteTimeUtc.Ticks == entry.ModifiedUtcTicks;
    }

    /// <summary>Reads the stamp in <paramref name="modelDir"/>; a missing or unreadable stamp vouches for nothing.</summary>
    public static PullStamp Load(string modelDir)
    {
        var path = Path.Combine(modelDir, FileName);
        try
        {
            return File.Exists(path) ? PeftJson.Load(path, ReadInfo) : new PullStamp([]);
        }
        catch (InvalidDataException)
        {
            return new PullStamp([]);
        }
    }

    public void Save(string modelDir) => PeftJson.Save(Path.Combine(modelDir, FileName), this, WriteInfo);
}
