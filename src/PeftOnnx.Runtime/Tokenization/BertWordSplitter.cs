using System.Text;

namespace PeftOnnx.Runtime.Tokenization;

/// <summary>
/// Hugging Face's BertNormalizer (clean_text, handle_chinese_chars, strip_accents, lowercase) followed by
/// BertPreTokenizer (split on whitespace, isolate punctuation), fused into one pass over the text.
/// </summary>
/// <remarks>
/// Every normaliser step is a per-character map, so applying them character by character in HF's order
/// (clean, space out CJK, NFD and drop Mn, lowercase) equals applying each to the whole string. Each
/// normalised char remembers the source character it came from, as HF's alignments do: decomposition
/// and lowercase expansion parts map to their source character, removed characters map to nothing.
/// ASCII, almost all of real text, takes a table-driven fast path.
/// </remarks>
internal sealed class BertWordSplitter
{
    private const byte AsciiKeep = 0, AsciiSplit = 1, AsciiIsolate = 2, AsciiRemove = 3;

    private readonly bool _lowercase;
    private readonly bool _stripAccents;
    private readonly bool _spaceOutChinese;
    private readonly byte[] _asciiAction = new byte[128];
    private readonly char[] _asciiMap = new char[128];

    public BertWordSplitter(bool lowercase, bool stripAccents, bool spaceOutChinese)
    {
        _lowercase = lowercase;
        _stripAccents = stripAccents;
        _spaceOutChinese = spaceOutChinese;
        for (int c = 0; c < 128; c++)
        {
            var cls = BertCharacters.Of(c);
            _asciiAction[c] = (cls & BertCharacterClass.Removed) != 0 ? AsciiRemove
                : (cls & BertCharacterClass.Whitespace) != 0 ? AsciiSplit
                : (cls & BertCharacterClass.Punctuation) != 0 ? AsciiIsolate
                : AsciiKeep;
            _asciiMap[c] = lowercase && c is >= 'A' and <= 'Z' ? (char)(c | 0x20) : (char)c;
        }
    }

    /// <summary>Splits <paramref name="text"/> into normalised words, handing each to <paramref name="sink"/>.</summary>
    public void Split(string text, IWordSink sink, WordBuffer word)
    {
        word.Clear();
        var action = _asciiAction;
        var map = _asciiMap;
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (c < 128)
            {
                switch (action[c])
                {
                    case AsciiKeep:
                        word.Append(map[c], i, i + 1, isCodePointStart: true);
                        break;
                    case AsciiSplit:
                        if (!word.Flush(sink))
                            return;
                        break;
                    case AsciiIsolate:
                        if (!word.Flush(sink))
                            return;
                        word.Append(c, i, i + 1, isCodePointStart: true);
                        if (!word.Flush(sink))
                            return;
                        break;
                }
                i++;
                continue;
            }

            int length = 1;
            int codePoint = c;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                codePoint = char.ConvertToUtf32(c, text[i + 1]);
                length = 2;
            }
            if (!AppendNonAscii(codePoint, i, i + length, sink, word))
                return;
            i += length;
        }
        word.Flush(sink);
    }

    private bool AppendNonAscii(int codePoint, int start, int end, IWordSink sink, WordBuffer word)
    {
        var cls = BertCharacters.Of(codePoint);
        if (cls == BertCharacterClass.None)
        {
            word.AppendCodePoint(codePoint, start, end);
            return true;
        }
        if ((cls & BertCharacterClass.Removed) != 0)
            return true;
        if ((cls & BertCharacterClass.Whitespace) != 0)
            return word.Flush(sink);

        // handle_chinese_chars puts spaces around the ideograph, so it always stands alone.
        bool alone = _spaceOutChinese && (cls & BertCharacterClass.Chinese) != 0;
        if (alone && !word.Flush(sink))
            return false;

        Span<int> decomposed = stackalloc int[CanonicalDecomposition.MaxLength];
        int parts = 1;
        decomposed[0] = codePoint;
        if (_stripAccents && (cls & BertCharacterClass.Decomposes) != 0)
            parts = CanonicalDecomposition.Decompose(codePoint, decomposed);

        Span<int> lowered = stackalloc int[2];
        for (int p = 0; p < parts; p++)
        {
            int part = decomposed[p];
            var partClass = parts == 1 ? cls : BertCharacters.Of(part);
            if (_stripAccents && (partClass & BertCharacterClass.Nonspacing) != 0)
                continue;
            int outputs = 1;
            lowered[0] = part;
            if (_lowercase && (partClass & BertCharacterClass.Uppercase) != 0)
                outputs = BertCharacters.ToLower(part, lowered);
            for (int o = 0; o < outputs; o++)
            {
                int normalized = lowered[o];
                var normalizedClass = normalized == codePoint ? cls : BertCharacters.Of(normalized);
                if ((normalizedClass & BertCharacterClass.Whitespace) != 0)
                {
                    if (!word.Flush(sink))
                        return false;
                }
                else if ((normalizedClass & BertCharacterClass.Punctuation) != 0)
                {
                    if (!word.Flush(sink))
                        return false;
                    word.AppendCodePoint(normalized, start, end);
                    if (!word.Flush(sink))
                        return false;
                }
                else
                {
                    word.AppendCodePoint(normalized, start, end);
                }
            }
        }
        return !alone || word.Flush(sink);
    }
}
