namespace PeftOnnx.Runtime.Tokenization;

/// <summary>Receives the words of a text, normalised, one at a time.</summary>
internal interface IWordSink
{
    /// <summary>
    /// One word: its normalised UTF-16 text, and for each of its chars the UTF-16 range [start, end) of the
    /// source character it came from. Returns false to stop the split early.
    /// </summary>
    bool Accept(ReadOnlySpan<char> word, ReadOnlySpan<int> sourceStarts, ReadOnlySpan<int> sourceEnds, int codePoints);
}
