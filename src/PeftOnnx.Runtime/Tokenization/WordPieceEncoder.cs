namespace PeftOnnx.Runtime.Tokenization;

/// <summary>
/// Hugging Face's WordPiece model as a word sink: greedy longest-match-first pieces, "##" continuations,
/// and a single [UNK] for a word longer than <see cref="BertTokenizer.MaxInputCharsPerWord"/> code points
/// or one that cannot be covered. Pieces land in reusable buffers (ids and source UTF-16 ranges).
/// </summary>
internal sealed class WordPieceEncoder : IWordSink
{
    private WordPieceVocabulary? _vocabulary;
    private int _unknownId;
    private int[] _ids = new int[256];
    private int[] _starts = new int[256];
    private int[] _ends = new int[256];
    private int _limit = int.MaxValue;

    public int Count { get; private set; }

    public ReadOnlySpan<int> Ids => _ids.AsSpan(0, Count);

    public ReadOnlySpan<int> Starts => _starts.AsSpan(0, Count);

    public ReadOnlySpan<int> Ends => _ends.AsSpan(0, Count);

    /// <summary>Starts a new text: forgets earlier pieces; the split stops once <paramref name="limit"/> pieces are in.</summary>
    public void Reset(WordPieceVocabulary vocabulary, int unknownId, int limit)
    {
        _vocabulary = vocabulary;
        _unknownId = unknownId;
        Count = 0;
        _limit = limit;
    }

    public bool Accept(ReadOnlySpan<char> word, ReadOnlySpan<int> sourceStarts, ReadOnlySpan<int> sourceEnds, int codePoints)
    {
        int first = Count;
        if (codePoints > BertTokenizer.MaxInputCharsPerWord || !AddPieces(word, sourceStarts, sourceEnds))
        {
            Count = first;
            Add(_unknownId, sourceStarts[0], sourceEnds[^1]);
        }
        return Count < _limit;
    }

    private bool AddPieces(ReadOnlySpan<char> word, ReadOnlySpan<int> sourceStarts, ReadOnlySpan<int> sourceEnds)
    {
        var vocabulary = _vocabulary!;
        // Greedy longest match first: the first piece from all tokens, later ones from the "##" tokens.
        int length = vocabulary.Initial.LongestPrefix(word, out int id);
        for (int start = 0; ; )
        {
            if (length == 0)
                return false;
            Add(id, sourceStarts[start], sourceEnds[start + length - 1]);
            start += length;
            if (start == word.Length)
                return true;
            length = vocabulary.Continuation.LongestPrefix(word[start..], out id);
        }
    }

    private void Add(int id, int start, int end)
    {
        if (Count == _ids.Length)
        {
            int size = Count * 2;
            Array.Resize(ref _ids, size);
            Array.Resize(ref _starts, size);
            Array.Resize(ref _ends, size);
        }
        _ids[Count] = id;
        _starts[Count] = start;
        _ends[Count] = end;
        Count++;
    }
}
