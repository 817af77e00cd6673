using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using PeftOnnx.Runtime.Scoring;

namespace PeftOnnx.Hosting.Scoring;

/// <summary>
/// A deterministic stand-in for a model, shipped for diagnostics and benchmarks of the host itself: `serve --scorer
/// hash` (the crash, scale-out and load tests start real `peftonnx serve` processes with it) and `bench-pipeline
/// --hash-scorer` (the folder pipeline's own cost and memory, no model). The label and probabilities follow from a
/// SHA-256 of the text, the embedding too, and each call can sleep to imitate inference time.
/// </summary>
public sealed class HashTextScorer(IReadOnlyList<string> labels, TimeSpan delayPerBatch, TimeSpan delayPerText = default, int embeddingSize = 8) : ITextScorer
{
    public static readonly IReadOnlyList<string> DefaultLabels = ["negative", "positive"];

    private int _textsReceived;

    public string ModelId => $"hash-scorer/{labels.Count}";

    public IReadOnlyList<string>? Labels => labels;

    /// <summary>Texts handed to <see cref="Score(IReadOnlyList{PreparedText}, CancellationToken)"/> so far (counted on entry), so tests can tell which work reached the model.</summary>
    public int TextsReceived => Volatile.Read(ref _textsReceived);

    public PreparedText Prepare(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new PreparedText(text, [], text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length + 2);
    }

    [OverloadResolutionPriority(1)] // Score([]) keeps meaning no texts
    public IReadOnlyList<TextScore> Score(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        Score(this.PrepareAll(texts, cancellationToken), cancellationToken);

    public IReadOnlyList<TextScore> Score(IReadOnlyList<PreparedText> prepared, CancellationToken cancellationToken = default)
    {
        Interlocked.Add(ref _textsReceived, prepared.Count);
        var delay = delayPerBatch + delayPerText * prepared.Count;
        if (delay > TimeSpan.Zero)
            Thread.Sleep(delay);
        var results = new TextScore[prepared.Count];
        for (var i = 0; i < prepared.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            results[i] = ScoreOne(prepared[i]);
        }
        return results;
    }

    private TextScore ScoreOne(PreparedText prepared)
    {
        var text = prepared.Text;
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        var logits = new float[labels.Count];
        for (var k = 0; k < logits.Length; k++)
            logits[k] = digest[k % digest.Length] / 32f;
        var max = logits.Max();
        var exp = logits.Select(l => MathF.Exp(l - max)).ToArray();
        var sum = exp.Sum();
        var probabilities = exp.Select(e => e / sum).ToArray();
        var best = Array.IndexOf(probabilities, probabilities.Max());
        var embedding = new float[embeddingSize];
        for (var k = 0; k < embedding.Length; k++)
            embedding[k] = (digest[(k + 7) % digest.Length] - 127.5f) / 127.5f;
        return new TextScore(labels[best], probabilities[best], probabilities, embedding, Chunks: 1, Tokens: prepared.Tokens);
    }
}
