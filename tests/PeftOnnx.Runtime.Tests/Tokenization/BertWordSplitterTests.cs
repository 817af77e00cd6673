using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Runtime.Tests.Tokenization;

/// <summary>The normaliser + pre-tokeniser alone, under each combination of Hugging Face's BertNormalizer options.</summary>
public sealed class BertWordSplitterTests
{
    private sealed class Collect : IWordSink
    {
        public List<string> Words { get; } = [];

        public List<(int Start, int End)> Spans { get; } = [];

        public bool Accept(ReadOnlySpan<char> word, ReadOnlySpan<int> sourceStarts, ReadOnlySpan<int> sourceEnds, int codePoints)
        {
            Words.Add(word.ToString());
            Spans.Add((sourceStarts[0], sourceEnds[^1]));
            return true;
        }
    }

    private static Collect Split(string text, bool lowercase = true, bool? stripAccents = null, bool chinese = true)
    {
        var sink = new Collect();
        new BertWordSplitter(lowercase, stripAccents ?? lowercase, chinese).Split(text, sink, new WordBuffer());
        return sink;
    }

    [Fact]
    public void Uncased_default_lowercases_and_strips_accents()
    {
        Assert.Equal(["cafe", "naive", "ecole"], Split("Café naïve ÉCOLE").Words);
    }

    [Fact]
    public void Cased_keeps_case_and_accents()
    {
        Assert.Equal(["Café", "ÉCOLE"], Split("Café ÉCOLE", lowercase: false).Words);
    }

    [Fact]
    public void Lowercase_without_accent_stripping_keeps_accents()
    {
        Assert.Equal(["café", "école"], Split("Café ÉCOLE", lowercase: true, stripAccents: false).Words);
    }

    [Fact]
    public void Accent_stripping_without_lowercase_keeps_case()
    {
        Assert.Equal(["Cafe", "ECOLE"], Split("Café ÉCOLE", lowercase: false, stripAccents: true).Words);
    }

    [Fact]
    public void Dotted_capital_i_lowercases_to_two_chars_like_rust()
    {
        // Rust's char::to_lowercase('İ') is "i\u0307"; both chars map back to the one source char.
        var sink = Split("İstanbul", lowercase: true, stripAccents: false);
        Assert.Equal("i\u0307stanbul", Assert.Single(sink.Words));
        Assert.Equal((0, 8), sink.Spans[0]);
        Assert.Equal(["istanbul"], Split("İstanbul").Words);
    }

    [Fact]
    public void Chinese_characters_stand_alone_unless_disabled()
    {
        Assert.Equal(["ab", "你", "好", "cd"], Split("ab你好cd").Words);
        Assert.Equal(["ab你好cd"], Split("ab你好cd", chinese: false).Words);
    }

    [Fact]
    public void Punctuation_is_isolated_and_whitespace_splits()
    {
        Assert.Equal(["a", "=", "b", "$", "1", ",", "000", "\u2014", "x", "\u00BF"], Split("a=b $1,000\u2014x \u00BF").Words);
    }

    [Fact]
    public void Control_and_format_characters_vanish_inside_a_word()
    {
        // Zero-width space (Cf), soft hyphen (Cf), NUL, U+FFFD, a private-use char (Co), vertical tab (Cc).
        Assert.Equal(["zerowidth", "ab"], Split("zero\u200Bwid\u00ADth\u0000\uFFFD\uE000\u000B a\u0085b").Words);
    }

    [Fact]
    public void Unicode_whitespace_splits_words()
    {
        Assert.Equal(["a", "b", "c", "d", "e"], Split("a\u00A0b\u2028c\u3000d\u202Fe").Words);
    }

    [Fact]
    public void Decomposition_can_yield_punctuation_that_is_then_isolated()
    {
        // U+037E GREEK QUESTION MARK decomposes canonically to ';'.
        Assert.Equal(["a", ";", "b"], Split("a\u037Eb").Words);
    }

    [Fact]
    public void Categories_are_those_of_unicode_9_like_the_rust_crate_hugging_face_uses()
    {
        // U+2E3B (Pd, Unicode 6.1) is punctuation; U+2E52 (Po, Unicode 13.0) is not, for HF.
        Assert.Equal(["a", "\u2E3B", "b"], Split("a\u2E3Bb").Words);
        Assert.Equal(["a\u2E52b"], Split("a\u2E52b").Words);
        // U+0301 (Mn, 1.1) is stripped; U+1AC1 (Mn, 14.0) stays.
        Assert.Equal(["e"], Split("e\u0301").Words);
        Assert.Equal(["e\u1AC1"], Split("e\u1AC1").Words);
        // U+200B (Cf, 1.1) is removed; U+0890 (Cf, 14.0) stays.
        Assert.Equal(["ab"], Split("a\u200Bb").Words);
        Assert.Equal(["a\u0890b"], Split("a\u0890b").Words);
    }
}
