using PeftOnnx.Core.Hashing;
using PeftOnnx.Core.Models;

namespace PeftOnnx.Models;

/// <summary>Checks the files of a model folder against its manifest, trusting <see cref="PullStamp"/> for unchanged files.</summary>
public static class ModelFileVerifier
{
    /// <summary>
    /// The state of <paramref name="modelDir"/>. Files the stamp does not vouch for are hashed; when they all
    /// match, the stamp is rewritten so the next check is instant.
    /// </summary>
    public static ModelFileState Check(ModelManifest manifest, string modelDir)
    {
        if (manifest.Files.Any(f => !File.Exists(Path.Combine(modelDir, f.Name))))
            return ModelFileState.Missing;
        var stamp = PullStamp.Load(modelDir);
        if (manifest.Files.All(f => stamp.Vouches(modelDir, f)))
            return ModelFileState.Pulled;

        var verified = new List<PullStamp.VerifiedFile>();
        foreach (var file in manifest.Files)
        {
            var path = Path.Combine(modelDir, file.Name);
            if (new FileInfo(path).Length != file.Size || !string.Equals(FileSha256.Of(path), file.Sha256, StringComparison.OrdinalIgnoreCase))
                return ModelFileState.Mismatch;
            verified.Add(PullStamp.Describe(path, file.Sha256));
        }
        TrySaveStamp(new PullStamp(verified), modelDir);
        return ModelFileState.Pulled;
    }


    // The stamp is only a cache: a read-only models folder still verifies, just not instantly next time.
    internal static void TrySaveStamp(PullStamp stamp, string modelDir)
    {
        try
        {
            stamp.Save(modelDir);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
