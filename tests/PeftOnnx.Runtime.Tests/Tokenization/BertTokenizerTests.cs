using PeftOnnx.Core.Models;
using PeftOnnx.Runtime.Tokenization;
using PeftOnnx.Tests;

namespace PeftOnnx.Runtime.Tests.Tokenization;

public sealed class BertTokenizerTests
{
    private static readonly BertTokenizer Tokenizer = TokenizerFixtures.MiniLm();

    private static string DebianText(int minLength) =>
        File.ReadLines(TestPaths.Data("debian-sections.train.jsonl"))
            .Select(line => System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("text").GetString()!)
            .First(text => text.Length >= minLength);

    [Fact]
    public void Special_ids_come_from_the_vocabulary()
    {
        Assert.Equal((101, 102, 0, 100), (Tokenizer.ClsId, Tokenizer.SepId, Tokenizer.PadId, Tokenizer.UnkId));
        Assert.Equal(30522, Tokenizer.VocabSize);
        Assert.Equal("[CLS]", Tokenizer.TokenOf(Tokenizer.ClsId));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \t\n\r  ")]
    [InlineData("\u200B\u0000\uFFFD\u00AD")]
    public void Text_without_words_gives_cls_sep(string text)
    {
        var encoded = Tokenizer.Encode(text);
        Assert.Equal([Tokenizer.ClsId, Tokenizer.SepId], encoded.Ids);
        Assert.Equal([(0, 0), (0, 0)], encoded.Offsets);
        Assert.Equal(0, Tokenizer.CountTokens(text));
        Assert.Single(Tokenizer.EncodeWindows(text, 16, 4));
    }

    [Fact]
    public void A_word_over_100_code_points_is_one_unk_spanning_it()
    {
        string word = new('a', 101);
        var encoded = Tokenizer.Encode($"x {word} y");
        Assert.Equal([Tokenizer.ClsId, Tokenizer.Encode("x").Ids[1], Tokenizer.UnkId, Tokenizer.Encode("y").Ids[1], Tokenizer.SepId], encoded.Ids);
        Assert.Equal((2, 103), encoded.Offsets[2]);

        var exactly100 = Tokenizer.Encode(new string('a', 100));
        Assert.DoesNotContain(Tokenizer.UnkId, exactly100.Ids);
    }

    [Fact]
    public void Word_length_limit_counts_code_points_not_utf16_units()
    {
        // 60 emoji are 120 UTF-16 units but 60 code points: WordPiece runs (and finds no piece) rather than
        // the length limit; both give one [UNK], whose offsets cover the whole word either way.
        string emoji = string.Concat(Enumerable.Repeat("\U0001F600", 60));
        var encoded = Tokenizer.Encode(emoji);
        Assert.Equal([Tokenizer.ClsId, Tokenizer.UnkId, Tokenizer.SepId], encoded.Ids);
        Assert.Equal((0, 120), encoded.Offsets[1]);
        Assert.Equal((0, 60), encoded.CodePointOffsets[1]);
    }

    [Fact]
    public void Truncation_keeps_the_first_pieces_and_the_sep()
    {
        string text = DebianText(400);
        var full = Tokenizer.Encode(text);
        var truncated = Tokenizer.Encode(text, maxLength: 16);

        Assert.Equal(16, truncated.Length);
        Assert.Equal(Tokenizer.ClsId, truncated.Ids[0]);
        Assert.Equal(Tokenizer.SepId, truncated.Ids[^1]);
        Assert.Equal(full.Ids[..15], truncated.Ids[..15]);
        Assert.Equal(full.Offsets[..15], truncated.Offsets[..15]);
        Assert.True(truncated.IsTruncated);
        Assert.False(full.IsTruncated);
        Assert.Equal(full.PieceCount, full.TotalPieces);
    }

    [Fact]
    public void Truncation_to_exactly_the_length_is_not_truncated()
    {
        var full = Tokenizer.Encode("one two three");
        var same = Tokenizer.Encode("one two three", maxLength: full.Length);
        Assert.Equal(full.Ids, same.Ids);
        Assert.False(same.IsTruncated);
        Assert.True(Tokenizer.Encode("one two three", maxLength: full.Length - 1).IsTruncated);
    }

    [Fact]
    public void Max_length_below_three_is_refused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.Encode("text", maxLength: 2));
        Assert.Equal("maxLength", error.ParamName);
    }

    [Theory]
    [InlineData(32, 8)]
    [InlineData(16, 0)]
    [InlineData(10, 7)]
    public void Windows_cover_every_piece_with_the_stride_overlap(int maxLength, int stride)
    {
        string text = DebianText(600);
        var full = Tokenizer.Encode(text);
        var pieces = full.Ids[1..^1];
        var windows = Tokenizer.EncodeWindows(text, maxLength, stride);

        Assert.True(windows.Count > 1);
        int width = maxLength - 2;
        for (int w = 0; w < windows.Count; w++)
        {
            var window = windows[w];
            Assert.InRange(window.Length, 3, maxLength);
            Assert.Equal(Tokenizer.ClsId, window.Ids[0]);
            Assert.Equal(Tokenizer.SepId, window.Ids[^1]);
            Assert.Equal(w * (width - stride), window.FirstPiece);
            Assert.Equal(pieces.AsSpan(window.FirstPiece, window.PieceCount).ToArray(), window.Ids[1..^1]);
            Assert.Equal(full.Offsets.AsSpan(1 + window.FirstPiece, window.PieceCount).ToArray(), window.Offsets[1..^1]);
            if (w > 0)
            {
                var previous = windows[w - 1];
                Assert.Equal(width, previous.PieceCount);
                Assert.Equal(stride, previous.FirstPiece + previous.PieceCount - window.FirstPiece);
            }
        }
        Assert.Equal(pieces.Length, windows[^1].FirstPiece + windows[^1].PieceCount);
        Assert.True(windows[^1].PieceCount > stride, "the last window must add pieces beyond the previous one");
    }

    [Theory]
    [InlineData(8, new[] { 0 }, new[] { 8 })]
    [InlineData(9, new[] { 0, 6 }, new[] { 8, 3 })]
    [InlineData(14, new[] { 0, 6 }, new[] { 8, 8 })]
    [InlineData(15, new[] { 0, 6, 12 }, new[] { 8, 8, 3 })]
    public void Window_boundaries_follow_hugging_face_overflow(int words, int[] firstPieces, int[] pieceCounts)
    {
        // Each "a" is one word-piece; maxLength 10 holds 8 pieces, stride 2 steps by 6.
        var windows = Tokenizer.EncodeWindows(string.Join(' ', Enumerable.Repeat("a", words)), maxLength: 10, stride: 2);
        Assert.Equal(firstPieces, windows.Select(w => w.FirstPiece).ToArray());
        Assert.Equal(pieceCounts, windows.Select(w => w.PieceCount).ToArray());
        Assert.Equal(words * 2 - 1, windows[^1].Offsets[^2].End);
    }

    [Fact]
    public void A_short_text_is_one_window_equal_to_encode()
    {
        var window = Assert.Single(Tokenizer.EncodeWindows("a short text", 32, 8));
        Assert.Equal(Tokenizer.Encode("a short text").Ids, window.Ids);
        Assert.False(window.IsTruncated);
    }

    [Fact]
    public void A_stride_that_leaves_no_progress_is_refused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.EncodeWindows("text", 10, 8));
        Assert.Contains("stride (8) must be smaller than maxLength - 2 (8)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Code_point_offsets_differ_from_utf16_offsets_after_a_surrogate_pair()
    {
        var encoded = Tokenizer.Encode("\U0001F600 hello");
        Assert.Equal((3, 8), encoded.Offsets[2]);
        Assert.Equal((2, 7), encoded.CodePointOffsets[2]);
        Assert.Equal("hello", encoded.SourceOf(2).ToString());
    }

    [Fact]
    public void Offsets_map_normalised_pieces_to_their_source_characters()
    {
        // "ÉCOLE" lower-cases and loses its accent; the Hangul syllable decomposes into three jamo pieces.
        var encoded = Tokenizer.Encode("ÉCOLE 한");
        Assert.Equal("ecole", string.Concat(encoded.Ids[1..^1].Take(encoded.Length - 5).Select(Tokenizer.TokenOf)).Replace("##", "", StringComparison.Ordinal));
        Assert.Equal((0, 5), (encoded.Offsets[1].Start, encoded.Offsets[encoded.Length - 5].End));
        Assert.All(encoded.Offsets[^4..^1], offset => Assert.Equal((6, 7), offset));
    }

    [Fact]
    public void Concurrent_encoding_gives_the_same_result_as_sequential()
    {
        var texts = File.ReadLines(TestPaths.Data("debian-sections.dev.jsonl")).Take(200)
            .Select(line => System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("text").GetString()!)
            .ToArray();
        var sequential = texts.Select(t => Tokenizer.Encode(t, 128).Ids).ToArray();
        var parallel = new int[texts.Length][];
        Parallel.For(0, texts.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => parallel[i] = Tokenizer.Encode(texts[i], 128).Ids);
        for (int i = 0; i < texts.Length; i++)
            Assert.Equal(sequential[i], parallel[i]);
    }

    [Fact]
    public void Cased_settings_reach_the_tokenizer()
    {
        string vocab = Path.Combine(TestModels.EnsurePulled("minilm-l6"), "vocab.txt");
        var cased = BertTokenizer.FromFile(vocab, new TokenizerSettings { Lowercase = false });
        var keepAccents = BertTokenizer.FromFile(vocab, new TokenizerSettings { Lowercase = true, StripAccents = false });

        Assert.Equal(Tokenizer.Encode("hello").Ids, cased.Encode("hello").Ids);
        Assert.NotEqual(Tokenizer.Encode("HELLO").Ids, cased.Encode("HELLO").Ids);
        Assert.Equal(Tokenizer.Encode("cafe").Ids, Tokenizer.Encode("Café").Ids);
        Assert.NotEqual(Tokenizer.Encode("cafe").Ids, keepAccents.Encode("Café").Ids);
        Assert.Equal(keepAccents.Encode("café").Ids, keepAccents.Encode("CAFÉ").Ids);
    }

    [Fact]
    public void Arctic_xs_loads_from_its_manifest_settings()
    {
        var manifest = Core.Json.PeftJson.Load<ModelManifest>(Path.Combine(TestPaths.RepoRoot, "models", "arctic-xs", ModelManifest.FileName));
        var arctic = BertTokenizer.FromDirectory(TestModels.EnsurePulled("arctic-xs"), manifest.Tokenizer);
        Assert.Equal(512, arctic.Settings.MaxLength);
        Assert.Equal(Tokenizer.Encode("Übermäßig große Straße").Ids, arctic.Encode("Übermäßig große Straße").Ids);
    }
}
