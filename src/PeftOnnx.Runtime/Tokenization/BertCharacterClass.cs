using System.Globalization;
using System.Text;

namespace PeftOnnx.Runtime.Tokenization;

/// <summary>What Hugging Face's BertNormalizer and BertPreTokenizer do with one code point.</summary>
[Flags]
internal enum BertCharacterClass : byte
{
    None = 0,
    /// <summary>Removed by clean_text: U+0000, U+FFFD and Unicode "other" (Cc, Cf, Co) except \t \n \r.</summary>
    Removed = 1,
    /// <summary>Rust's char::is_whitespace (plus \t \n \r): mapped to a space, splits words.</summary>
    Whitespace = 2,
    /// <summary>ASCII punctuation or Unicode P*: isolated as a word of its own.</summary>
    Punctuation = 4,
    /// <summary>A CJK ideograph in the ranges of HF's is_chinese_char: spaced out as a word of its own.</summary>
    Chinese = 8,
    /// <summary>Unicode Mn: dropped after NFD when accents are stripped.</summary>
    Nonspacing = 16,
    /// <summary>Has a canonical decomposition.</summary>
    Decomposes = 32,
    /// <summary>Its lowercase differs from itself.</summary>
    Uppercase = 64,
}

/// <summary>Character classes for the BERT normaliser and pre-tokeniser, from a 64 KiB table for the BMP.</summary>
internal static class BertCharacters
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
        if (cp is 0 or 0xFFFD || (uint)(cp - 0xD800) <= 0xDFFF - 0xD800)
            return BertCharacterClass.Removed;

        var result = BertCharacterClass.None;
        var category = CharUnicodeInfo.GetUnicodeCategory(cp);
        switch (category)
        {
            case UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.PrivateUse:
                return BertCharacterClass.Removed;
            case UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
                or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation
                or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation
                or UnicodeCategory.OtherPunctuation:
                result |= BertCharacterClass.Punctuation;
                break;
            case UnicodeCategory.NonSpacingMark:
                result |= BertCharacterClass.Nonspacing;
                break;
        }
        // Rust's is_ascii_punctuation also counts the ASCII symbols $ + < = > ^ ` | ~ (Sc, Sm, Sk).
        if (cp < 0x80 && char.IsAsciiLetterOrDigit((char)cp) is false && cp > 0x20 && cp < 0x7F)
            result |= BertCharacterClass.Punctuation;
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
}
