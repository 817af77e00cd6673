using System.Runtime.CompilerServices;

namespace PeftOnnx.Runtime.Scoring;

/// <summary>
/// Scores whole documents (texts of any length) with one loaded model: long texts are split into
/// sliding windows and aggregated, short ones are batched by length. Thread-safe.
/// Implemented by the ONNX Runtime scorer; used by `peftonnx score`, the hosted worker and HTTP.
/// </summary>
public interface ITextScorer
{
    /// <summary>Identifies model + adapter for ledgers and idempotency (e.g. bundle name + model sha256 prefix).</summary>
    string ModelId { get; }

    /// <summary>Class labels for classification models; null for embedding models and parallel bundles (see <see cref="Tasks"/>).</summary>
    IReadOnlyList<string>? Labels { get; }

    /// <summary>A parallel bundle's tasks, each with its labels: every <see cref="TextScore"/> then carries <see cref="TextScore.Tasks"/>; null otherwise.</summary>
    IReadOnlyList<ScoredTask>? Tasks => null;

    /// <summary>
    /// Tokenizes one text into its windows, without running the model; thread-safe, so callers can prepare texts
    /// on their own threads while the model scores earlier ones.
    /// </summary>
    PreparedText Prepare(string text);

    /// <summary>Scores each text (<see cref="Prepare"/> on all cores, then the prepared overload); result i belongs to text i.</summary>
    [OverloadResolutionPriority(1)] // Score([]) keeps meaning no texts
    IReadOnlyList<TextScore> Score(IReadOnlyList<string> texts, CancellationToken cancellationToken = default);

    /// <summary>Scores texts this scorer prepared; result i belongs to text i, equal to scoring the texts themselves.</summary>
    IReadOnlyList<TextScore> Score(IReadOnlyList<PreparedText> prepared, CancellationToken cancellationToken = default);
}

/// <summary>
/// One document's result. Classification: <see cref="Label"/>, <see cref="Score"/> (its probability) and
/// <see cref="Probabilities"/> in label order. Embedding: <see cref="Embedding"/> (pooled, normalised when the
/// model says so). <see cref="Chunks"/> is the number of windows the document was split into.
/// A multi-label classifier also sets <see cref="PredictedLabels"/>; its <see cref="Probabilities"/> are then
/// independent per-label sigmoids and <see cref="Label"/> is the most probable label.
/// </summary>
public sealed record TextScore(string? Label, float Score, float[]? Probabilities, float[]? Embedding, int Chunks, int Tokens)
{
    /// <summary>Multi-label: every label whose probability reaches its threshold, most probable first (maybe none); null otherwise.</summary>
    public IReadOnlyList<string>? PredictedLabels { get; init; }

    /// <summary>
    /// A parallel bundle: task name -> that task's score (label, probabilities, multi-label choice), in the scorer's
    /// <see cref="ITextScorer.Tasks"/> order; the document-level label, score and probabilities are then unset.
    /// </summary>
    public IReadOnlyDictionary<string, TextScore>? Tasks { get; init; }
}

/// <summary>One task of a parallel bundle as a scorer serves it: its name and its labels in probability order.</summary>
public sealed record ScoredTask(string Name, IReadOnlyList<string> Labels);
