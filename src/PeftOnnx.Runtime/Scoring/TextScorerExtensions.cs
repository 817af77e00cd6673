namespace PeftOnnx.Runtime.Scoring;

/// <summary>Helpers over <see cref="ITextScorer"/>.</summary>
public static class TextScorerExtensions
{
    /// <summary>Prepares every text on all cores; result i belongs to text i.</summary>
    public static PreparedText[] PrepareAll(this ITextScorer scorer, IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(texts);
        var prepared = new PreparedText[texts.Count];
        Parallel.For(0, texts.Count, new ParallelOptions { CancellationToken = cancellationToken }, i => prepared[i] = scorer.Prepare(texts[i]));
        return prepared;
    }
}
