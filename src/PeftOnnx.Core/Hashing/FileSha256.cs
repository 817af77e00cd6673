using System.Security.Cryptography;

namespace PeftOnnx.Core.Hashing;

/// <summary>The lower-case hex sha256 of a file: the identity manifests, bundles and provenance record.</summary>
public static class FileSha256
{
    public static string Of(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
