using System.Security.Cryptography;
using System.Text;
using PeftOnnx.Core.Files;

namespace PeftOnnx.Hosting.Http;

/// <summary>
/// The API keys the HTTP API accepts (Http:ApiKeys and the lines of Http:ApiKeyFile). Only SHA-256 digests are kept, and
/// a presented key is compared with every one of them in constant time, so neither the time taken nor an early exit
/// tells how much of a key was right. No keys: the API is open (bound to loopback by default).
/// </summary>
public sealed class ApiKeys
{
    /// <summary>Shorter keys are refused: a key is a secret, not a password (`openssl rand -hex 32` makes one).</summary>
    public const int MinLength = 16;
    private const long MaxFileBytes = 1024 * 1024;

    private readonly byte[][] _digests;

    private ApiKeys(byte[][] digests) => _digests = digests;

    /// <summary>True when requests must present a key.</summary>
    public bool Required => _digests.Length > 0;

    /// <summary>The keys of <paramref name="options"/>: Http:ApiKeys, then every key in Http:ApiKeyFile.</summary>
    public static ApiKeys From(HttpApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var keys = new List<string>();
        for (var i = 0; i < options.ApiKeys.Length; i++)
            keys.Add(Check(options.ApiKeys[i].Trim(), $"Http:ApiKeys:{i}"));
        if (options.ApiKeyFile is { } file)
            keys.AddRange(ReadFile(file));
        return new ApiKeys([.. keys.Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k)))]);
    }

    /// <summary>
    /// The keys in a key file: one a line, blank lines and lines starting with '#' skipped. Shared by `serve` and
    /// `loadgen` (which sends the first). Errors name the file and line, never the key.
    /// </summary>
    public static IReadOnlyList<string> ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string text;
        try
        {
            text = RegularFile.ReadAllText(path, MaxFileBytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"API key file: {e.Message}", e);
        }
        var keys = new List<string>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length > 0 && !line.StartsWith('#'))
                keys.Add(Check(line, $"{path} line {i + 1}"));
        }
        if (keys.Count == 0)
            throw new InvalidOperationException($"API key file {path} holds no key (one a line; '#' starts a comment).");
        return keys;
    }

    /// <summary>Whether <paramref name="presented"/> is one of the keys; takes the same time whichever key matches, if any.</summary>
    public bool Accepts(string presented)
    {
        ArgumentNullException.ThrowIfNull(presented);
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        var accepted = false;
        foreach (var key in _digests)
            accepted |= CryptographicOperations.FixedTimeEquals(key, digest);
        return accepted;
    }

    private static string Check(string key, string where)
    {
        if (key.Length < MinLength)
            throw new InvalidOperationException($"the API key at {where} has {key.Length} characters; a key needs at least {MinLength} (make one with `openssl rand -hex 32`).");
        if (key.Any(char.IsWhiteSpace))
            throw new InvalidOperationException($"the API key at {where} contains whitespace; a key is one token (make one with `openssl rand -hex 32`).");
        return key;
    }
}
