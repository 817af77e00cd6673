using System.Text.Json;
using PeftOnnx.Core.Models;
using PeftOnnx.Runtime.Tokenization;
using PeftOnnx.Tests;
using Xunit.Abstractions;

namespace PeftOnnx.Runtime.Tests.Tokenization;

/// <summary>tests/fixtures/tokenizer_goldens.json: ids and code-point offsets from Hugging Face tokenizers' BertWordPieceTokenizer.</summary>
public sealed class TokenizerGoldenTests(ITestOutputHelper output)
{
    private sealed record GoldenCase(string Text, int[] Ids, int[][] Offsets);

    private sealed record GoldenFile(List<GoldenCase> Cases);

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };

    private static readonly Lazy<List<GoldenCase>> Cases = new(() =>
    {
        using var stream = File.OpenRead(TestPaths.Fixture("tokenizer_goldens.json"));
        var file = JsonSerializer.Deserialize<GoldenFile>(stream, JsonOptions);
        return file!.Cases;
    });

    [Fact]
    public void Every_golden_case_matches_ids_and_offsets()
    {
        var tokenizer = TokenizerFixtures.MiniLm();
        Assert.Equal(500, Cases.Value.Count);

        var mismatches = new List<string>();
        foreach (var (golden, index) in Cases.Value.Select((c, i) => (c, i)))
        {
            var encoded = tokenizer.Encode(golden.Text);
            var offsets = encoded.CodePointOffsets.Select(o => $"[{o.Start},{o.End}]");
            var expectedOffsets = golden.Offsets.Select(o => $"[{o[0]},{o[1]}]");
            bool idsEqual = encoded.Ids.SequenceEqual(golden.Ids);
            bool offsetsEqual = offsets.SequenceEqual(expectedOffsets);
            if (idsEqual && offsetsEqual)
                continue;
            mismatches.Add(
                $"case {index} {JsonSerializer.Serialize(Truncate(golden.Text))}\n" +
                $"  ids      {string.Join(' ', encoded.Ids)}\n  expected {string.Join(' ', golden.Ids)}\n" +
                (offsetsEqual ? "" : $"  offsets  {string.Join(' ', offsets)}\n  expected {string.Join(' ', expectedOffsets)}\n"));
        }

        output.WriteLine($"{Cases.Value.Count - mismatches.Count}/{Cases.Value.Count} golden cases match (ids and offsets).");
        foreach (var mismatch in mismatches.Take(5))
            output.WriteLine(mismatch);
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {Cases.Value.Count} golden cases differ; first:\n{string.Join('\n', mismatches.Take(3))}");
    }

    [Fact]
    public void Token_counts_match_the_goldens()
    {
        var tokenizer = TokenizerFixtures.MiniLm();
        foreach (var golden in Cases.Value)
            Assert.Equal(golden.Ids.Length - 2, tokenizer.CountTokens(golden.Text));
    }

    [Fact]
    public void Offsets_slice_back_to_the_source_text()
    {
        var tokenizer = TokenizerFixtures.MiniLm();
        int checkedTokens = 0;
        foreach (var golden in Cases.Value)
        {
            var encoded = tokenizer.Encode(golden.Text);
            for (int t = 1; t < encoded.Length - 1; t++)
            {
                var (start, end) = encoded.Offsets[t];
                Assert.InRange(start, 0, golden.Text.Length);
                Assert.InRange(end, start + 1, golden.Text.Length);
                Assert.Equal(golden.Text.Substring(start, end - start), encoded.SourceOf(t).ToString());
                // A plain-ASCII piece is its source text, lower-cased.
                string token = tokenizer.TokenOf(encoded.Ids[t]);
                string piece = token.StartsWith("##", StringComparison.Ordinal) ? token[2..] : token;
                if (encoded.Ids[t] != tokenizer.UnkId && golden.Text[start..end].All(char.IsAsciiLetterOrDigit))
                    Assert.Equal(piece, golden.Text[start..end].ToLowerInvariant());
                checkedTokens++;
            }
        }
        output.WriteLine($"{checkedTokens} token offsets sliced back to their source text.");
    }

    private static string Truncate(string text) => text.Length <= 120 ? text : text[..120] + "...";
}

internal static class TokenizerFixtures
{
    private static readonly Lazy<BertTokenizer> MiniLmTokenizer = new(() =>
        BertTokenizer.FromFile(Path.Combine(TestModels.EnsurePulled("minilm-l6"), "vocab.txt"), new TokenizerSettings()));

    public static BertTokenizer MiniLm() => MiniLmTokenizer.Value;
}
