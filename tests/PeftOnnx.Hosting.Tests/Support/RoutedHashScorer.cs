using System.Collections.Concurrent;
using PeftOnnx.Hosting.Scoring;
using PeftOnnx.Runtime.Adapters;
using PeftOnnx.Runtime.Scoring;

namespace PeftOnnx.Hosting.Tests.Support;

/// <summary>A routed scorer over <see cref="HashTextScorer"/> that records which adapter each text was scored with.</summary>
internal sealed class RoutedHashScorer(IAdapterRouter router, IReadOnlyList<string> adapters) : IRoutedTextScorer
{
    private readonly HashTextScorer _inner = new(HashTextScorer.DefaultLabels, TimeSpan.Zero);

    public ConcurrentQueue<string?> AdaptersUsed { get; } = new();

    public string ModelId => "hash+routed";

    public IReadOnlyList<string>? Labels => _inner.Labels;

    public IAdapterRouter Router => router;

    public IReadOnlyList<string> Adapters => adapters;

    public string? DefaultAdapter => null;

    public bool RequiresAdapter => false;

    public PreparedText Prepare(string text) => _inner.Prepare(text);

    public IReadOnlyList<TextScore> Score(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        Score(texts, [.. texts.Select(_ => (string?)null)], cancellationToken);

    public IReadOnlyList<TextScore> Score(IReadOnlyList<PreparedText> prepared, CancellationToken cancellationToken = default) =>
        Score(prepared, [.. prepared.Select(_ => (string?)null)], cancellationToken);

    public IReadOnlyList<TextScore> Score(IReadOnlyList<string> texts, IReadOnlyList<string?> adapters, CancellationToken cancellationToken = default)
    {
        foreach (var adapter in adapters)
            AdaptersUsed.Enqueue(adapter);
        return _inner.Score(texts, cancellationToken);
    }

    public IReadOnlyList<TextScore> Score(IReadOnlyList<PreparedText> prepared, IReadOnlyList<string?> adapters, CancellationToken cancellationToken = default)
    {
        foreach (var adapter in adapters)
            AdaptersUsed.Enqueue(adapter);
        return _inner.Score(prepared, cancellationToken);
    }
}
