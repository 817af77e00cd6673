using System.Text;

namespace PeftOnnx.Runtime.Tokenization;

/// <summary>
/// Character classes for the BERT normaliser and pre-tokeniser, looked up in a 64 KiB table for the BMP.
/// General categories are those of Unicode 9.0, as in the Rust crate (unicode_categories 0.1.1) Hugging
/// Face uses: a later-assigned mark, format character or punctuation is an ordinary character there.
/// Whitespace and lowercase follow Rust's std, which tracks current Unicode, as .NET does.
/// </summary>
internal static partial class BertCharacters
{
    private static readonly byte[] Bmp = BuildBmpTable();

    /// <summary>Class of a code point (a lone surrogate counts as U+FFFD: removed).</summary>
    public static BertCharacterClass Of(int codePoint) =>
        codePoint <= 0xFFFF ? (BertCharacterClass)Bmp[codePoint] : Compute(codePoint);

    /// <summary>HF's is_chinese_char ranges, verbatim (including its 0x2B920 start of Extension E).</summary>
    public static bool IsChinese(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF)
            or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B920 and <= 0x2CEAF)
            or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);

    /// <summary>Rust's char::to_lowercase: simple mappings plus the one unconditional expansion, U+0130 -> "i\u0307".</summary>
    public static int ToLower(int codePoint, Span<int> destination)
    {
        if (codePoint == 0x130)
        {
            destination[0] = 'i';
            destination[1] = 0x307;
            return 2;
        }
        destination[0] = codePoint < 0x80
            ? (uint)(codePoint - 'A') <= 'Z' - 'A' ? codePoint | 0x20 : codePoint
            : Rune.ToLowerInvariant(new Rune(codePoint)).Value;
        return 1;
    }

    private static byte[] BuildBmpTable()
    {
        var table = new byte[0x10000];
        for (int cp = 0; cp < table.Length; cp++)
            table[cp] = (byte)Compute(cp);
        return table;
    }

    private static BertCharacterClass Compute(int cp)
    {
        if (cp is '\t' or '\n' or '\r')
            return BertCharacterClass.Whitespace;
        if (cp is 0xFFFD || (uint)(cp - 0xD800) <= 0xDFFF - 0xD800 || InRanges(OtherRanges, cp))
            return BertCharacterClass.Removed;

        var result = BertCharacterClass.None;
        // Rust's is_ascii_punctuation also counts the ASCII symbols $ + < = > ^ ` | ~ (Sc, Sm, Sk).
        if (InRanges(PunctuationRanges, cp) || (cp is > 0x20 and < 0x7F && !char.IsAsciiLetterOrDigit((char)cp)))
            result |= BertCharacterClass.Punctuation;
        if (InRanges(NonspacingRanges, cp))
            result |= BertCharacterClass.Nonspacing;
        if (Rune.IsWhiteSpace(new Rune(cp)))
            result |= BertCharacterClass.Whitespace;
        if (IsChinese(cp))
            result |= BertCharacterClass.Chinese;
        if (CanonicalDecomposition.HasDecomposition(cp))
            result |= BertCharacterClass.Decomposes;
        Span<int> lower = stackalloc int[2];
        if (ToLower(cp, lower) != 1 || lower[0] != cp)
            result |= BertCharacterClass.Uppercase;
        return result;
    }

    /// <summary>Whether <paramref name="cp"/> lies in one of the inclusive [first, last] pairs of <paramref name="ranges"/>.</summary>
    private static bool InRanges(ReadOnlySpan<int> ranges, int cp)
    {
        int lo = 0, hi = ranges.Length / 2 - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (cp < ranges[2 * mid])
                hi = mid - 1;
            else if (cp > ranges[2 * mid + 1])
                lo = mid + 1;
            else
                return true;
        }
        return false;
    }
}
