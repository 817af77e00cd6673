using System.Security.Cryptography;
using PeftOnnx.Core.Files;

namespace PeftOnnx.Core.Hashing;

/// <summary>The lower-case hex sha256 of a file: the identity manifests, bundles and provenance record.</summary>
public static class FileSha256
{
    public static string Of(string path)
    {
        using var stream = RegularFile.OpenRead(path, 1 << 20);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
