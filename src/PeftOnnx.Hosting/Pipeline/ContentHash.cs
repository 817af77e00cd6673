using System.Security.Cryptography;
using System.Text;

namespace PeftOnnx.Hosting.Pipeline;

/// <summary>The identity of a document's content: SHA-256 of its text as UTF-8, lower-case hex.</summary>
public static class ContentHash
{
    public static string Of(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }
}
