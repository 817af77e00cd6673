namespace PeftOnnx.Runtime.Scoring;

/// <summary>Batching, windowing and zero-shot settings of <see cref="OnnxTextScorer"/>.</summary>
public sealed record ScorerOptions
{
    /// <summary>Windows per ONNX Runtime call; windows are sorted by length first so padding stays small.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>
    /// On CPU, a row shorter than this fraction of its batch's longest row starts a new batch instead of being padded
    /// (0 turns splitting off; GPUs always batch up to <see cref="BatchSize"/>).
    /// </summary>
    public double MinBatchFill { get; init; } = 0.5;

    /// <summary>Window length in tokens including [CLS] and [SEP]; null means the model's max length.</summary>
    public int? MaxLength { get; init; }

    /// <summary>
    /// Word-pieces shared by consecutive windows of a long document (the tokenizer's stride); null means 32,
    /// or a quarter of the window for windows shorter than 130 tokens.
    /// </summary>
    public int? WindowOverlap { get; init; }

    /// <summary>The overlap used for windows of <paramref name="maxLength"/> tokens.</summary>
    public int OverlapFor(int maxLength) => WindowOverlap ?? Math.Min(32, (maxLength - 2) / 4);

    public WindowAggregation Aggregation { get; init; } = WindowAggregation.Mean;

    /// <summary>
    /// Labels for zero-shot classification with an embedding model: each document gets the label whose
    /// text embedding is most similar. Ignored by classification bundles (they carry their own labels).
    /// </summary>
    public IReadOnlyList<string>? ZeroShotLabels { get; init; }

    /// <summary>Texts embedded for each zero-shot label, in label order (e.g. "video editing and playback" for
    /// label "video"); null embeds the labels themselves.</summary>
    public IReadOnlyList<string>? ZeroShotPrompts { get; init; }

    /// <summary>Softmax temperature for zero-shot: probabilities = softmax(cosine similarities x scale).</summary>
    public float ZeroShotScale { get; init; } = 20f;

    public void Validate()
    {
        if (BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), $"Batch size must be at least 1, got {BatchSize}.");
        if (MinBatchFill is < 0 or > 1 || double.IsNaN(MinBatchFill))
            throw new ArgumentOutOfRangeException(nameof(MinBatchFill), $"MinBatchFill must be in [0, 1], got {MinBatchFill}.");
        if (MaxLength is < 3)
            throw new ArgumentOutOfRangeException(nameof(MaxLength), $"Max length must leave room for [CLS], [SEP] and one token (>= 3), got {MaxLength}.");
        if (WindowOverlap < 0 || (MaxLength is { } max && WindowOverlap >= max - 2))
            throw new ArgumentOutOfRangeException(nameof(WindowOverlap), $"Window overlap must be in [0, max length - 2), got {WindowOverlap}.");
        if (ZeroShotLabels is { } labels)
        {
            if (labels.Count < 2)
                throw new ArgumentException($"Zero-shot classification needs at least two labels, got {labels.Count}.", nameof(ZeroShotLabels));
            var blank = labels.FirstOrDefault(string.IsNullOrWhiteSpace);
            if (blank is not null)
                throw new ArgumentException("Zero-shot labels must not be blank.", nameof(ZeroShotLabels));
            var duplicate = labels.GroupBy(l => l).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null)
                throw new ArgumentException($"Zero-shot label '{duplicate.Key}' appears {duplicate.Count()} times.", nameof(ZeroShotLabels));
            if (ZeroShotPrompts is { } prompts && (prompts.Count != labels.Count || prompts.Any(string.IsNullOrWhiteSpace)))
                throw new ArgumentException($"Zero-shot prompts must be {labels.Count} non-blank texts, one per label; got {prompts.Count}.", nameof(ZeroShotPrompts));
        }
    }
}
