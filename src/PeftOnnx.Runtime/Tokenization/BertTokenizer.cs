using PeftOnnx.Core.Models;

namespace PeftOnnx.Runtime.Tokenization;

/// <summary>
/// BERT WordPiece tokenizer, bit-exact with Hugging Face tokenizers' BertWordPieceTokenizer
/// (BertNormalizer + BertPreTokenizer + WordPiece + [CLS]/[SEP] post-processing): same ids and same
/// offsets. Thread-safe; each thread reuses its own scratch buffers.
/// </summary>
public sealed class BertTokenizer
{
    /// <summary>WordPiece's max_input_chars_per_word: a longer word (in code points) becomes one [UNK].</summary>
    public const int MaxInputCharsPerWord = 100;

    private const int SpecialTokens = 2;

    [ThreadStatic] private static Scratch? t_scratch;

    private readonly WordPieceVocabulary _vocabulary;
    private readonly BertWordSplitter _splitter;

    private BertTokenizer(WordPieceVocabulary vocabulary, TokenizerSettings settings, string source)
    {
        _vocabulary = vocabulary;
        Settings = settings;
        ClsId = RequireToken(vocabulary, "[CLS]", source);
        SepId = RequireToken(vocabulary, "[SEP]", source);
        PadId = RequireToken(vocabulary, "[PAD]", source);
        UnkId = RequireToken(vocabulary, "[UNK]", source);
        _splitter = new BertWordSplitter(
            settings.Lowercase,
            settings.StripAccents ?? settings.Lowercase,
            settings.TokenizeChineseChars);
    }

    public TokenizerSettings Settings { get; }

    public int ClsId { get; }

    public int SepId { get; }

    public int PadId { get; }

    public int UnkId { get; }

    /// <summary>Number of ids in the vocabulary.</summary>
    public int VocabSize => _vocabulary.Count;

    /// <summary>
    /// Loads a vocab.txt (one token per line, id = line number); <paramref name="verify"/> sees the file's bytes before
    /// they are parsed (<see cref="Inference.ModelFolder"/> checks a bundle's sha256 on them).
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is empty, not UTF-8, or lacks [PAD], [UNK], [CLS] or [SEP].</exception>
    public static BertTokenizer FromFile(string vocabPath, TokenizerSettings settings, Action<byte[]>? verify = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Type != "bert-wordpiece")
            throw new NotSupportedException($"Tokenizer type '{settings.Type}' is not supported; this tokenizer implements 'bert-wordpiece'.");
        return new BertTokenizer(WordPieceVocabulary.Load(vocabPath, verify), settings, vocabPath);
    }

    /// <summary>Loads <paramref name="settings"/>.Vocab (vocab.txt by default) from a model or bundle folder.</summary>
    public static BertTokenizer FromDirectory(string directory, TokenizerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return FromFile(Path.Combine(directory, settings.Vocab), settings);
    }

    /// <summary>The token string of an id (e.g. "##ing").</summary>
    public string TokenOf(int id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, VocabSize);
        return _vocabulary.TokenOf(id);
    }

    /// <summary>[CLS] word-pieces [SEP], keeping the first word-pieces when longer than <paramref name="maxLength"/> tokens (specials included).</summary>
    public TokenizedText Encode(string text, int maxLength = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, SpecialTokens + 1);
        int keep = maxLength - SpecialTokens;
        // One piece past the limit tells whether anything was cut off, without tokenizing the rest.
        var pieces = Split(text, keep == int.MaxValue - SpecialTokens ? int.MaxValue : keep + 1);
        int kept = Math.Min(pieces.Count, keep);
        return Row(text, pieces, 0, kept, pieces.Count);
    }

    /// <summary>
    /// Windows over a long text, as Hugging Face's truncation with return_overflowing_tokens: each window has at
    /// most <paramref name="maxLength"/> tokens including [CLS]/[SEP]; window k starts at word-piece
    /// k * (maxLength - 2 - <paramref name="stride"/>), so consecutive windows share <paramref name="stride"/>
    /// word-pieces; the last window ends at the last word-piece. A short or empty text gives one window.
    /// </summary>
    public IReadOnlyList<TokenizedText> EncodeWindows(string text, int maxLength, int stride)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, SpecialTokens + 1);
        ArgumentOutOfRangeException.ThrowIfNegative(stride);
        int width = maxLength - SpecialTokens;
        if (stride >= width)
            throw new ArgumentOutOfRangeException(nameof(stride), stride,
                $"stride ({stride}) must be smaller than maxLength - 2 ({width}): windows of {maxLength} tokens hold {width} word-pieces.");

        var pieces = Split(text, int.MaxValue);
        int total = pieces.Count;
        var windows = new List<TokenizedText>();
        for (int start = 0; ; start += width - stride)
        {
            int count = Math.Min(width, total - start);
            windows.Add(Row(text, pieces, start, count, total));
            if (start + count >= total)
                return windows;
        }
    }

    /// <summary>Number of word-pieces of <paramref name="text"/>, specials excluded.</summary>
    public int CountTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Split(text, int.MaxValue).Count;
    }

    private WordPieceEncoder Split(string text, int limit)
    {
        var scratch = t_scratch ??= new Scratch();
        scratch.Pieces.Reset(_vocabulary, UnkId, limit);
        if (limit > 0)
            _splitter.Split(text, scratch.Pieces, scratch.Word);
        return scratch.Pieces;
    }

    private TokenizedText Row(string text, WordPieceEncoder pieces, int first, int count, int total)
    {
        var ids = new int[count + SpecialTokens];
        var offsets = new (int Start, int End)[count + SpecialTokens];
        ids[0] = ClsId;
        pieces.Ids.Slice(first, count).CopyTo(ids.AsSpan(1));
        ids[^1] = SepId;
        var starts = pieces.Starts.Slice(first, count);
        var ends = pieces.Ends.Slice(first, count);
        for (int i = 0; i < count; i++)
            offsets[i + 1] = (starts[i], ends[i]);
        return new TokenizedText(text, ids, offsets, first, total);
    }

    private static int RequireToken(WordPieceVocabulary vocabulary, string token, string source) =>
        vocabulary.TryGetId(token, out int id)
            ? id
            : throw new InvalidDataException(
                $"Vocabulary '{source}' has no {token} token; a BERT WordPiece vocabulary needs [PAD], [UNK], [CLS] and [SEP]. Check that the file is the model's vocab.txt.");

    private sealed class Scratch
    {
        public WordBuffer Word { get; } = new();

        public WordPieceEncoder Pieces { get; } = new();
    }
}
