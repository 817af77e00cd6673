using System.Runtime.CompilerServices;
using PeftOnnx.Runtime.Scoring;

namespace PeftOnnx.Runtime.Adapters;

/// <summary>A scorer that can give each document its own adapter (per-document routing in batch scoring).</summary>
public interface IRoutedTextScorer : ITextScorer
{
    /// <summary>Maps a document path to the adapter that scores it.</summary>
    IAdapterRouter Router { get; }

    /// <summary>Names of the adapters served now, in ordinal order (the set can change while serving).</summary>
    IReadOnlyList<string> Adapters { get; }

    /// <summary>The adapter for texts that name none; null: the base graph's own parameters.</summary>
    string? DefaultAdapter { get; }

    /// <summary>True when every text needs an adapter and there is no default (a classification side or mixed bundle, whose classifier lives only in the adapters).</summary>
    bool RequiresAdapter { get; }

    /// <summary>Scores text i with adapter <paramref name="adapters"/>[i] (null: the default adapter).</summary>
    [OverloadResolutionPriority(1)] // Score([], []) keeps meaning no texts
    IReadOnlyList<TextScore> Score(IReadOnlyList<string> texts, IReadOnlyList<string?> adapters, CancellationToken cancellationToken = default);

    /// <summary>Scores prepared text i with adapter <paramref name="adapters"/>[i] (null: the default adapter).</summary>
    IReadOnlyList<TextScore> Score(IReadOnlyList<PreparedText> prepared, IReadOnlyList<string?> adapters, CancellationToken cancellationToken = default);
}
