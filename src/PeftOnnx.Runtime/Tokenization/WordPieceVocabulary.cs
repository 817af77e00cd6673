using System.Text;

namespace PeftOnnx.Runtime.Tokenization;

/// <summary>
/// A BERT vocab.txt (one token per line, id = line number) indexed for allocation-free lookups of
/// word-initial pieces and of "##" continuation pieces (stored without the prefix).
/// </summary>
internal sealed class WordPieceVocabulary
{
    public const string ContinuationPrefix = "##";

    private readonly string[] _tokens;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _initial;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _continuation;

    private WordPieceVocabulary(string[] tokens, Dictionary<string, int> initial, Dictionary<string, int> continuation)
    {
        _tokens = tokens;
        _initial = initial.GetAlternateLookup<ReadOnlySpan<char>>();
        _continuation = continuation.GetAlternateLookup<ReadOnlySpan<char>>();
        MaxInitialLength = initial.Keys.Select(k => k.Length).DefaultIfEmpty(0).Max();
        MaxContinuationLength = continuation.Keys.Select(k => k.Length).DefaultIfEmpty(0).Max();
    }

    /// <summary>Number of ids (lines of the file).</summary>
    public int Count => _tokens.Length;

    /// <summary>Longest token, in UTF-16 units: no longer candidate can match.</summary>
    public int MaxInitialLength { get; }

    /// <summary>Longest continuation token without its "##", in UTF-16 units.</summary>
    public int MaxContinuationLength { get; }

    public string TokenOf(int id) => _tokens[id];

    public bool TryGetId(string token, out int id) => _initial.Dictionary.TryGetValue(token, out id);

    public bool TryGetInitial(ReadOnlySpan<char> piece, out int id) => _initial.TryGetValue(piece, out id);

    public bool TryGetContinuation(ReadOnlySpan<char> piece, out int id) => _continuation.TryGetValue(piece, out id);

    /// <summary>Reads vocab.txt as Hugging Face's WordPiece does: UTF-8, lines split on '\n', trailing whitespace trimmed, a repeated token keeps its last id.</summary>
    public static WordPieceVocabulary Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"Vocabulary file '{path}' does not exist; pass the vocab.txt of the model (e.g. models/minilm-l6/vocab.txt).", path);

        string content;
        try
        {
            content = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(File.ReadAllBytes(path));
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
