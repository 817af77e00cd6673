using System.Text;

namespace PeftOnnx.Runtime.Documents;

/// <summary>
/// Reads one document file as strict UTF-8 text, or says why it cannot be scored: vanished, unreadable,
/// empty, too large, binary (NUL bytes), not valid UTF-8. Never throws for a bad file.
/// </summary>
public static class DocumentReader
{
    /// <summary>Default size limit: larger files are skipped rather than read into memory.</summary>
    public const long DefaultMaxBytes = 10 * 1024 * 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static DocumentText Read(string path, long maxBytes = DefaultMaxBytes)
    {
        byte[] bytes;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
            var length = stream.Length;
            if (length == 0)
                return DocumentText.Skipped(path, "empty file");
            if (length > maxBytes)
                return DocumentText.Skipped(path, $"too large: {length} bytes, the limit is {maxBytes} bytes");
            bytes = new byte[length];
            stream.ReadExactly(bytes);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return DocumentText.Skipped(path, "vanished: the file was deleted before it was read");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return DocumentText.Skipped(path, $"unreadable: {e.Message}");
        }

        if (bytes.AsSpan().IndexOf((byte)0) is var nul and >= 0)
            return DocumentText.Skipped(path, $"binary: NUL byte at offset {nul}");
        string text;
        try
        {
            var span = bytes.AsSpan();
            if (span.StartsWith(Encoding.UTF8.Preamble))
                span = span[3..];
            text = StrictUtf8.GetString(span);
        }
        catch (DecoderFallbackException e)
        {
            return DocumentText.Skipped(path, $"not valid UTF-8 (first bad byte at offset {e.Index})");
        }
        return string.IsNullOrWhiteSpace(text) ? DocumentText.Skipped(path, "empty: only whitespace") : DocumentText.Ok(path, text);
    }
}
