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
