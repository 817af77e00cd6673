using System.Runtime.CompilerServices;
using PeftOnnx.Hosting.Scoring;
using PeftOnnx.Runtime.Scoring;

namespace PeftOnnx.Hosting.Tests.Support;

/// <summary>The hash scorer, except that a batch holding a text <paramref name="failsOn"/> picks throws: failure-handling tests.</summary>
internal sealed class FailingScorer(Func<string, bool> failsOn) : ITextScorer
{
    private readonly HashTextScorer _inner = new(HashTextScorer.DefaultLabels, TimeSpan.Zero);

    public string ModelId => _inner.ModelId;

    public IReadOnlyList<string>? Labels => _inner.Labels;

    public PreparedText Prepare(string text) => _inner.Prepare(text);

    [OverloadResolutionPriority(1)]
    public IReadOnlyList<TextScore> Score(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        Score(this.PrepareAll(texts, cancellationToken), cancellationToken);

    public IReadOnlyList<TextScore> Score(IReadOnlyList<PreparedText> prepared, CancellationToken cancellationToken = default)
    {
        for (var i = 0; i < prepared.Count; i++)
        {
            if (failsOn(prepared[i].Text))
                throw new InvalidOperationException($"the test scorer was told to fail on text {i} ({prepared[i].Text.Length} chars)");
        }
        return _inner.Score(prepared, cancellationToken);
    }
}
