using System.Text;
using PeftOnnx.Core.Files;

namespace PeftOnnx.Runtime.Tokenization;

/// <summary>
/// A BERT vocab.txt (one token per line, id = line number) indexed for allocation-free longest-prefix lookups of
/// word-initial pieces and of "##" continuation pieces (stored without the prefix).
/// </summary>
internal sealed class WordPieceVocabulary
{
    public const string ContinuationPrefix = "##";

    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _ids;

    private WordPieceVocabulary(string[] tokens, Dictionary<string, int> initial, Dictionary<string, int> continuation)
    {
        _tokens = tokens;
        _ids = initial;
        Initial = new PrefixTable(initial);
        Continuation = new PrefixTable(continuation);
    }

    /// <summary>Number of ids (lines of the file).</summary>
    public int Count => _tokens.Length;

    /// <summary>Every token, for the first piece of a word.</summary>
    public PrefixTable Initial { get; }

    /// <summary>The "##" tokens without their prefix, for the later pieces of a word.</summary>
    public PrefixTable Continuation { get; }

    public string TokenOf(int id) => _tokens[id];

    public bool TryGetId(string token, out int id) => _ids.TryGetValue(token, out id);

    /// <summary>
    /// Reads vocab.txt as Hugging Face's WordPiece does: UTF-8, lines split on '\n', trailing whitespace trimmed, a
    /// repeated token keeps its last id. <paramref name="verify"/> sees the bytes read before they are parsed (a bundle's
    /// sha256 check on exactly the bytes used).
    /// </summary>
    public static WordPieceVocabulary Load(string path, Action<byte[]>? verify = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"Vocabulary file '{path}' does not exist; pass the vocab.txt of the model (e.g. models/minilm-l6/vocab.txt).", path);

        string content;
        try
        {
            var bytes = RegularFile.ReadAllBytes(path);
            verify?.Invoke(bytes);
            content = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException($"Vocabulary file '{path}' is not valid UTF-8 ({e.Message}); a WordPiece vocab.txt is UTF-8 text with one token per line.", e);
        }

        var lines = content.Split('\n');
        // A final newline ends the last line rather than starting an empty one (Rust's BufRead::lines).
        int count = lines.Length > 0 && lines[^1].Length == 0 ? lines.Length - 1 : lines.Length;
        if (count == 0)
            throw new InvalidDataException($"Vocabulary file '{path}' is empty; a WordPiece vocab.txt has one token per line.");

        var tokens = new string[count];
        var initial = new Dictionary<string, int>(count, StringComparer.Ordinal);
        var continuation = new Dictionary<string, int>(count / 4, StringComparer.Ordinal);
        for (int id = 0; id < count; id++)
        {
            string token = lines[id].TrimEnd();
            tokens[id] = token;
            initial[token] = id;
            if (token.StartsWith(ContinuationPrefix, StringComparison.Ordinal) && token.Length > ContinuationPrefix.Length)
                continuation[token[ContinuationPrefix.Length..]] = id;
        }
        return new WordPieceVocabulary(tokens, initial, continuation);
    }
}
