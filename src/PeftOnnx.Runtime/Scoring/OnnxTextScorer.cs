using System.Runtime.CompilerServices;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Runtime.Scoring;

/// <summary>
/// Scores documents with an <see cref="OnnxModel"/>. Each text is split into overlapping windows of at most
/// the model's length; all windows of a call are batched by length (longest first, padded to the longest row
/// of their batch); window outputs are combined per document (<see cref="WindowAggregation"/>).
/// Classification bundles yield softmax probabilities over their labels (multi-label bundles: a sigmoid per label
/// and the labels above their thresholds, <see cref="MultiLabelDecision"/>); embedding models yield the pooled
/// embedding and, with <see cref="ScorerOptions.ZeroShotLabels"/>, a label by cosine similarity to the label
/// texts' embeddings. Thread-safe; the scorer does not own the model.
/// </summary>
public sealed class OnnxTextScorer : ITextScorer
{
    private readonly OnnxModel _model;
    private readonly ScorerOptions _options;
    private readonly int _maxLength;
    private readonly int _overlap;
    private readonly float[][]? _labelEmbeddings;

    public OnnxTextScorer(OnnxModel model, ScorerOptions? options = null)
    {
        _model = model;
        _options = options ?? new ScorerOptions();
        _options.Validate();
        _maxLength = Math.Min(_options.MaxLength ?? model.MaxLength, model.MaxLength);
        _overlap = _options.OverlapFor(_maxLength);
        if (_overlap >= _maxLength - 2)
            throw new ArgumentOutOfRangeException(nameof(options), $"Window overlap {_overlap} must be smaller than the window body ({_maxLength - 2} tokens).");

        if (model.Tasks is { } tasks)
        {
            Tasks = [.. tasks.Select(t => new ScoredTask(t.Name, t.Labels))];
        }
        else if (model.IsClassifier)
        {
            Labels = model.Manifest.Labels;
        }
        else if (_options.ZeroShotLabels is { } labels)
        {
            Labels = labels;
            // Label texts are short: one window each, embedded once for the scorer's lifetime.
            _labelEmbeddings = EmbedWindows((_options.ZeroShotPrompts ?? labels).Select(l => model.Tokenizer.Encode(l, _maxLength)).ToList());
        }
    }

    public string ModelId => _model.ModelId;

    public IReadOnlyList<string>? Labels { get; }

    public IReadOnlyList<ScoredTask>? Tasks { get; }

    public PreparedText Prepare(string text) =>
        PreparedText.FromWindows(text, _model.Tokenizer.EncodeWindows(text, _maxLength, _overlap), _options.Aggregation);

    [OverloadResolutionPriority(1)] // Score([]) keeps meaning no texts
    public IReadOnlyList<TextScore> Score(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        texts.Count == 0 ? [] : Score(this.PrepareAll(texts, cancellationToken), cancellationToken);

    public IReadOnlyList<TextScore> Score(IReadOnlyList<PreparedText> prepared, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        if (prepared.Count == 0)
            return [];
        // The windows of every text go into one pool so batches mix documents.
        var flat = new List<TokenizedText>();
        var owner = new List<int>();
        for (var doc = 0; doc < prepared.Count; doc++)
        {
            CheckPrepared(prepared[doc], _maxLength);
            foreach (var window in prepared[doc].Windows)
            {
                flat.Add(window);
                owner.Add(doc);
            }
        }

        var outputs = RunWindows(flat, cancellationToken);
        var results = new TextScore[prepared.Count];
        var byDoc = new List<float[]>[prepared.Count];
        for (var i = 0; i < flat.Count; i++)
            (byDoc[owner[i]] ??= []).Add(outputs[i]);
        for (var doc = 0; doc < prepared.Count; doc++)
            results[doc] = Combine(byDoc[doc], prepared[doc].Windows.Count, prepared[doc].Tokens);
        return results;
    }

    /// <summary>Rejects texts prepared by a scorer that does not tokenize or for longer windows (ONNX Runtime would fail on them).</summary>
    internal static void CheckPrepared(PreparedText? text, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Windows.Count == 0)
            throw new ArgumentException("A prepared text has no windows; prepare it with the scorer that scores it.", nameof(text));
        var longest = text.Windows.Max(w => w.Length);
        if (longest > maxLength)
            throw new ArgumentException($"A prepared text has a window of {longest} tokens, longer than this scorer's {maxLength}; prepare it with the scorer that scores it.", nameof(text));
    }

    private float[][] RunWindows(List<TokenizedText> windows, CancellationToken cancellationToken)
    {
        var results = new float[windows.Count][];
        var lengths = windows.Select(w => w.Length).ToArray();
        foreach (var batchIndices in LengthBuckets.Plan(lengths, _options.BatchSize, _model.Device == Sessions.DeviceKind.Cpu ? _options.MinBatchFill : 0))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = TokenBatch.Create(batchIndices.Select(i => windows[i]).ToList(), _model.Tokenizer.PadId);
            var rows = _model.IsClassifier ? _model.ClassScores(batch) : _model.Embed(batch);
            for (var r = 0; r < batchIndices.Length; r++)
                results[batchIndices[r]] = rows[r];
        }
        return results;
    }

    private float[][] EmbedWindows(List<TokenizedText> windows) => RunWindows(windows, CancellationToken.None);

    private TextScore Combine(List<float[]> windowOutputs, int chunks, int tokens)
    {
        var combined = Aggregate(windowOutputs, _options.Aggregation);
        RequireFinite(combined, _model.IsClassifier ? "class scores" : "embedding");
        if (_model.Tasks is { } tasks)
        {
            // Each task's scores are a slice of the row; windows were combined element-wise, so per task as well.
            var byTask = new Dictionary<string, TextScore>(tasks.Count, StringComparer.Ordinal);
            var offset = 0;
            for (var t = 0; t < tasks.Count; t++)
            {
                var slice = combined[offset..(offset + tasks[t].Labels.Count)];
                offset += slice.Length;
                byTask[tasks[t].Name] = Classify(slice, tasks[t].Labels, tasks[t].IsMultiLabel, tasks[t].Thresholds, _model.TaskOutputIsProbabilities[t], chunks, tokens);
            }
            return new TextScore(null, 0f, null, null, chunks, tokens) { Tasks = byTask };
        }
        if (_model.IsClassifier)
            return Classify(combined, Labels!, _model.Manifest.IsMultiLabel, _model.Manifest.Thresholds, _model.ClassOutputIsProbabilities, chunks, tokens);

        if (_model.Manifest.Normalize)
            Pooling.L2Normalize(combined);
        if (_labelEmbeddings is null)
            return new TextScore(null, 0f, null, combined, chunks, tokens);

        var similarities = new float[_labelEmbeddings.Length];
        for (var l = 0; l < similarities.Length; l++)
            similarities[l] = Cosine(combined, _labelEmbeddings[l]);
        var zeroShot = Softmax.Of(similarities, _options.ZeroShotScale);
        var top = ArgMax(zeroShot);
        return new TextScore(Labels![top], zeroShot[top], zeroShot, combined, chunks, tokens);
    }

    private static TextScore Classify(float[] scores, IReadOnlyList<string> labels, bool multiLabel, IReadOnlyList<float>? thresholds, bool areProbabilities, int chunks, int tokens)
    {
        if (multiLabel)
        {
            // Windows combine as logits (or as probabilities when the model has no logits output), then the sigmoid.
            var perLabel = areProbabilities ? scores : MultiLabelDecision.Sigmoid(scores);
            return MultiLabelDecision.Score(perLabel, labels, thresholds, chunks, tokens);
        }
        var probabilities = areProbabilities ? Renormalize(scores) : Softmax.Of(scores);
        var best = ArgMax(probabilities);
        return new TextScore(labels[best], probabilities[best], probabilities, null, chunks, tokens);
    }

    /// <summary>
    /// Refuses a text whose model output is NaN or infinite (weights that overflow float32): the caller reports that
    /// text as failed with this reason instead of writing NaN results or failing at serialization.
    /// </summary>
    internal static void RequireFinite(float[] values, string what)
    {
        var bad = Array.FindIndex(values, v => !float.IsFinite(v));
        if (bad >= 0)
        {
            throw new InvalidDataException(
                $"the model's {what} for this text are not finite ({(float.IsNaN(values[bad]) ? "NaN" : values[bad] > 0 ? "+Inf" : "-Inf")} at index {bad}): " +
                "the model or its adapter overflows float32 on it; re-export the bundle from a finite, sanely scaled checkpoint.");
        }
    }

    internal static float[] Aggregate(List<float[]> rows, WindowAggregation aggregation)
    {
        var result = (float[])rows[0].Clone();
        if (aggregation == WindowAggregation.First || rows.Count == 1)
            return result;
        for (var r = 1; r < rows.Count; r++)
        {
            for (var i = 0; i < result.Length; i++)
                result[i] = aggregation == WindowAggregation.Max ? Math.Max(result[i], rows[r][i]) : result[i] + rows[r][i];
        }
        if (aggregation == WindowAggregation.Mean)
        {
            for (var i = 0; i < result.Length; i++)
                result[i] /= rows.Count;
        }
        return result;
    }

    private static float[] Renormalize(float[] probabilities)
    {
        var sum = probabilities.Sum();
        return sum > 0 ? probabilities.Select(p => p / sum).ToArray() : probabilities;
    }

    private static float Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return (float)(dot / Math.Max(Math.Sqrt(na) * Math.Sqrt(nb), 1e-12));
    }

    private static int ArgMax(float[] values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
                best = i;
        }
        return best;
    }
}
