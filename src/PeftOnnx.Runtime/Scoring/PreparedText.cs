using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Runtime.Scoring;

/// <summary>
/// A document tokenized by <see cref="ITextScorer.Prepare"/>: its windows (already cut to the first one for
/// <see cref="WindowAggregation.First"/>) and their token count, so tokenizing can run apart from, and ahead of,
/// inference. Only valid for the scorer (or an identically configured one) that prepared it.
/// </summary>
/// <param name="Text">The source text (what non-tokenizing scorers score).</param>
/// <param name="Windows">Model rows, [CLS] ... [SEP] each; empty for scorers that do not tokenize.</param>
/// <param name="Tokens">Tokens over all windows, specials included (reported as <see cref="TextScore.Tokens"/>).</param>
public sealed record PreparedText(string Text, IReadOnlyList<TokenizedText> Windows, int Tokens)
{
    /// <summary>Windows as produced by a tokenizer; the token count is their total length.</summary>
    public static PreparedText FromWindows(string text, IReadOnlyList<TokenizedText> windows, WindowAggregation aggregation)
    {
        ArgumentNullException.ThrowIfNull(windows);
        // First aggregation reads only the first window: the rest would be run and thrown away.
        var kept = aggregation == WindowAggregation.First && windows.Count > 1 ? [windows[0]] : windows;
        return new PreparedText(text, kept, kept.Sum(w => w.Length));
    }
}
