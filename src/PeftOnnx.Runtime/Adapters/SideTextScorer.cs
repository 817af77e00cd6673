using System.Diagnostics;
using System.Runtime.CompilerServices;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Scoring;
using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Runtime.Adapters;

/// <summary>
/// Scores documents with a <see cref="SideModel"/>, each document with its adapter (the default, or one per text):
/// windows like <see cref="OnnxTextScorer"/>, then either one length-bucketed batch plan per adapter (grouped) or one
/// plan over all windows with per-row adapter indices (mixed graphs), whichever <see cref="AdapterBatchStrategy"/>
/// measures faster. Thread-safe; does not own the model.
/// </summary>
public sealed class SideTextScorer : IRoutedTextScorer
{
    private readonly SideModel _model;
    private readonly ScorerOptions _options;
    private readonly string? _defaultAdapter;
    private readonly int _maxLength;
    private readonly int _overlap;

    public SideTextScorer(SideModel model, string? defaultAdapter, ScorerOptions? options = null, IAdapterRouter? router = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _options = options ?? new ScorerOptions();
        _options.Validate();
        if (_options.ZeroShotLabels is not null)
            throw new ArgumentException("zero-shot labels are not supported with adapters; score a classification side bundle or use the base model.", nameof(options));
        if (model.Manifest.IsMultiLabel)
            throw new InvalidDataException($"{model.Manifest.Name}: multi-label side bundles are not supported; export the multi-label adapter merged (without --mode side).");
        if (!model.IsClassifier && model.Manifest.Pooling != "mean")
            throw new InvalidDataException($"{model.Manifest.Name}: adapter scoring of embedding bundles uses mean pooling, the bundle says '{model.Manifest.Pooling}'.");
        if (defaultAdapter is not null)
            model.Registry.Acquire(defaultAdapter).Dispose(); // fail now, naming what is served
        _defaultAdapter = defaultAdapter;
        _maxLength = Math.Min(_options.MaxLength ?? model.Manifest.Tokenizer.MaxLength, model.Manifest.Tokenizer.MaxLength);
        _overlap = _options.OverlapFor(_maxLength);
        Router = router ?? new NoRouting();
        Strategy = new AdapterBatchStrategy(model.IsMixed);
    }

    public string ModelId => $"{_model.Manifest.Name}+{_defaultAdapter ?? "routed"}";

    public IReadOnlyList<string>? Labels => _model.Manifest.Labels;

    public IAdapterRouter Router { get; }

    public AdapterBatchStrategy Strategy { get; }

    public IReadOnlyList<string> Adapters => [.. _model.Registry.Adapters.Keys.Order(StringComparer.Ordinal)];

    public string? DefaultAdapter => _defaultAdapter;

    /// <summary>A classification bundle keeps its classifier in the adapters (the graph's own is a default input), side form or mixed.</summary>
    public bool RequiresAdapter => _defaultAdapter is null && _model.IsClassifier;

    public PreparedText Prepare(string text) =>
        PreparedText.FromWindows(text, _model.Tokenizer.EncodeWindows(text, _maxLength, _overlap), _options.Aggregation);

    [OverloadResolutionPriority(1)] // Score([]) keeps meaning no texts
    public IReadOnlyList<TextScore> Score(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        Score(texts, [.. Enumerable.Repeat<string?>(null, texts.Count)], cancellationToken);

    public IReadOnlyList<TextScore> Score(IReadOnlyList<PreparedText> prepared, CancellationToken cancellationToken = default) =>
        Score(prepared, [.. Enumerable.Repeat<string?>(null, prepared.Count)], cancellationToken);

    [OverloadResolutionPriority(1)] // Score([], []) keeps meaning no texts
    public IReadOnlyList<TextScore> Score(IReadOnlyList<string> texts, IReadOnlyList<string?> adapters, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(adapters);
        if (adapters.Count != texts.Count)
            throw new ArgumentException($"{adapters.Count} adapters given for {texts.Count} texts.", nameof(adapters));
        return texts.Count == 0 ? [] : Score(this.PrepareAll(texts, cancellationToken), adapters, cancellationToken);
    }

    public IReadOnlyList<TextScore> Score(IReadOnlyList<PreparedText> prepared, IReadOnlyList<string?> adapters, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        ArgumentNullException.ThrowIfNull(adapters);
        if (adapters.Count != prepared.Count)
            throw new ArgumentException($"{adapters.Count} adapters given for {prepared.Count} texts.", nameof(adapters));
        if (prepared.Count == 0)
            return [];
        var flat = new List<TokenizedText>();
        var owner = new List<int>();
        var rowAdapter = new List<string?>();
        for (var doc = 0; doc < prepared.Count; doc++)
        {
            OnnxTextScorer.CheckPrepared(prepared[doc], _maxLength);
            var adapter = adapters[doc] ?? _defaultAdapter;
            if (adapter is null && RequiresAdapter)
                throw new ArgumentException($"text {doc} names no adapter and {_model.Manifest.Name} has no default one; its classifiers live in the adapters, name one of: {string.Join(", ", Adapters)}.", nameof(adapters));
            foreach (var window in prepared[doc].Windows)
            {
                flat.Add(window);
                owner.Add(doc);
                rowAdapter.Add(adapter);
            }
        }

        var distinct = rowAdapter.Distinct().Count();
        var strategy = Strategy.Choose(distinct);
        var watch = Stopwatch.StartNew();
        var outputs = strategy == AdapterBatching.Mixed ? RunMixed(flat, rowAdapter, cancellationToken) : RunGrouped(flat, rowAdapter, cancellationToken);
        if (distinct > 1)
            Strategy.Record(strategy, flat.Sum(w => (long)w.Length), watch.Elapsed);

        var byDoc = new List<float[]>[prepared.Count];
        for (var i = 0; i < flat.Count; i++)
            (byDoc[owner[i]] ??= []).Add(outputs[i]);
        var results = new TextScore[prepared.Count];
        for (var doc = 0; doc < prepared.Count; doc++)
            results[doc] = Combine(byDoc[doc], prepared[doc].Windows.Count, prepared[doc].Tokens);
        return results;
    }

    /// <summary>On CPU a batch ends before a row shorter than this share of its longest (as <see cref="OnnxTextScorer"/>); a GPU pads.</summary>
    private double MinBatchFill => _model.Device == Sessions.DeviceKind.Cpu ? _options.MinBatchFill : 0;

    private float[][] RunGrouped(List<TokenizedText> windows, List<string?> adapters, CancellationToken cancellationToken)
    {
        var results = new float[windows.Count][];
        foreach (var group in Enumerable.Range(0, windows.Count).GroupBy(i => adapters[i]))
        {
            var members = group.ToArray();
            foreach (var bucket in LengthBuckets.Plan([.. members.Select(i => windows[i].Length)], _options.BatchSize, MinBatchFill))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var rows = bucket.Select(b => members[b]).ToArray();
                var batch = TokenBatch.Create([.. rows.Select(i => windows[i])], _model.Tokenizer.PadId);
                var outputs = Rows(batch, _model.Run(batch, group.Key));
                for (var r = 0; r < rows.Length; r++)
                    results[rows[r]] = outputs[r];
            }
        }
        return results;
    }

    private float[][] RunMixed(List<TokenizedText> windows, List<string?> adapters, CancellationToken cancellationToken)
    {
        var results = new float[windows.Count][];
        foreach (var bucket in LengthBuckets.Plan([.. windows.Select(w => w.Length)], _options.BatchSize, MinBatchFill))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = TokenBatch.Create([.. bucket.Select(i => windows[i])], _model.Tokenizer.PadId);
            var outputs = Rows(batch, _model.RunMixed(batch, [.. bucket.Select(i => adapters[i])]));
            for (var r = 0; r < bucket.Length; r++)
                results[bucket[r]] = outputs[r];
        }
        return results;
    }

    /// <summary>Per-row logits, or mean-pooled token states for embedding bundles.</summary>
    private float[][] Rows(TokenBatch batch, (float[] Values, long[] Shape) output)
    {
        if (_model.IsClassifier)
            return Pooling.Rows(output.Values, batch.BatchSize, (int)output.Shape[1]);
        if (output.Shape.Length != 3 || output.Shape[1] != batch.SequenceLength)
            throw new InvalidDataException($"{_model.Manifest.Name}: token states have shape [{string.Join(", ", output.Shape)}] for a batch of [{batch.BatchSize}, {batch.SequenceLength}]; virtual-token bundles serve classifiers only.");
        return Pooling.Mean(output.Values, batch.AttentionMask, batch.BatchSize, batch.SequenceLength, (int)output.Shape[2]);
    }

    private TextScore Combine(List<float[]> windowOutputs, int chunks, int tokens)
    {
        var combined = OnnxTextScorer.Aggregate(windowOutputs, _options.Aggregation);
        OnnxTextScorer.RequireFinite(combined, _model.IsClassifier ? "class scores" : "embedding");
        if (_model.IsClassifier)
        {
            var probabilities = Softmax.Of(combined);
            var best = 0;
            for (var i = 1; i < probabilities.Length; i++)
            {
                if (probabilities[i] > probabilities[best])
                    best = i;
            }
            return new TextScore(Labels![best], probabilities[best], probabilities, null, chunks, tokens);
        }
        if (_model.Manifest.Normalize)
            Pooling.L2Normalize(combined);
        return new TextScore(null, 0f, null, combined, chunks, tokens);
    }

    private sealed class NoRouting : IAdapterRouter
    {
        public string? Route(string documentPath) => null;
    }
}
