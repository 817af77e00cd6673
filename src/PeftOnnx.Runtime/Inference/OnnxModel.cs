using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Runtime.Sessions;
using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Runtime.Inference;

/// <summary>
/// A loaded model folder: a bundle (bundle.json) or a pulled base model (model.json, served as a
/// feature-extraction bundle), its tokenizer and its ONNX Runtime session. Runs token batches and returns
/// pooled embeddings, class scores or raw hidden states. Thread-safe: sessions may run concurrently.
/// </summary>
public sealed class OnnxModel : IDisposable
{
    private readonly ModelSession _session;
    private readonly HashSet<string> _inputNames;
    private readonly string? _hiddenOutput;
    private readonly string? _poolerOutput;
    private readonly string? _classOutput;
    private readonly string[] _taskOutputs = [];

    private OnnxModel(string directory, BundleManifest manifest, BertTokenizer tokenizer, ModelSession session)
    {
        Directory = directory;
        Manifest = manifest;
        Tokenizer = tokenizer;
        _session = session;
        var metadata = session.Session;
        _inputNames = [.. metadata.InputMetadata.Keys];
        foreach (var required in new[] { "input_ids", "attention_mask" })
        {
            if (!_inputNames.Contains(required))
                throw new InvalidDataException($"{ModelPath} has no '{required}' input (it has {string.Join(", ", _inputNames)}); it is not a BERT-style encoder.");
        }
        var outputs = metadata.OutputMetadata.Keys.ToHashSet(StringComparer.Ordinal);
        _hiddenOutput = ResolveOutput(ModelOutputs.LastHiddenState, outputs);
        _poolerOutput = ResolveOutput(ModelOutputs.PoolerOutput, outputs);
        _classOutput = ResolveOutput(ModelOutputs.Logits, outputs) ?? ResolveOutput(ModelOutputs.Probabilities, outputs);
        ClassOutputIsProbabilities = _classOutput is not null && ResolveOutput(ModelOutputs.Logits, outputs) is null;

        if (manifest.Tasks is { } tasks)
        {
            // A parallel bundle: one class output per task, all read from one run.
            if (!IsClassifier || tasks.Count == 0)
                throw new InvalidDataException($"{Path.Combine(directory, BundleManifest.FileName)}: \"tasks\" needs task sequence_classification and at least one task.");
            foreach (var task in tasks)
                task.Validate(Path.Combine(directory, BundleManifest.FileName));
            _taskOutputs = [.. tasks.Select(t => ResolveTaskOutput(t, outputs))];
            TaskOutputIsProbabilities = [.. tasks.Select(t => !t.Outputs.ContainsKey(ModelOutputs.Logits))];
        }
        else if (IsClassifier)
        {
            if (_classOutput is null)
                throw new InvalidDataException($"{ModelPath}: bundle {manifest.Name} is a classifier but the model has neither a 'logits' nor a 'probabilities' output (it has {string.Join(", ", outputs)}).");
            if (manifest.Labels is not { Count: > 0 })
                throw new InvalidDataException($"{Path.Combine(directory, BundleManifest.FileName)}: a sequence-classification bundle needs \"labels\".");
            manifest.ValidateProblem(Path.Combine(directory, BundleManifest.FileName));
        }
        else if (Pooling == "pooler" ? _poolerOutput is null : _hiddenOutput is null)
        {
            throw new InvalidDataException($"{ModelPath}: pooling '{Pooling}' needs output '{(Pooling == "pooler" ? ModelOutputs.PoolerOutput : ModelOutputs.LastHiddenState)}', which the model does not have (it has {string.Join(", ", outputs)}); map it in \"outputs\".");
        }
    }

    public string Directory { get; }

    public BundleManifest Manifest { get; }

    public BertTokenizer Tokenizer { get; }

    public string ModelPath => BundleFiles.Resolve(Directory, Manifest.Model, "model");

    /// <summary>The device the session actually runs on (after any CUDA fallback).</summary>
    public DeviceKind Device => _session.Device;

    public int IntraOpThreads => _session.IntraOpThreads;

    public bool IsClassifier => Manifest.Task == BundleTask.SequenceClassification;

    /// <summary>True when the classifier exposes only probabilities (softmax, or sigmoids for multi-label), not logits.</summary>
    public bool ClassOutputIsProbabilities { get; }

    public string Pooling => Manifest.Pooling;

    /// <summary>A parallel bundle's tasks (bundle.json "tasks"), in the order <see cref="ClassScores(ModelInputs)"/> concatenates them; null otherwise.</summary>
    public IReadOnlyList<BundleTaskHead>? Tasks => Manifest.Tasks;

    /// <summary>Per task of a parallel bundle: true when its output is probabilities, not logits.</summary>
    public IReadOnlyList<bool> TaskOutputIsProbabilities { get; } = [];

    /// <summary>Longest sequence (with [CLS] and [SEP]) the model accepts.</summary>
    public int MaxLength => Manifest.Tokenizer.MaxLength;

    /// <summary>
    /// Bundle name plus the first 12 hex digits of the weights' sha256 (and the precision when not fp32, since an
    /// int8 or fp16 export of the same adapter scores differently): identifies results in ledgers.
    /// </summary>
    public string ModelId
    {
        get
        {
            var sha = Manifest.Provenance.AdapterSha256 ?? Manifest.Provenance.BaseSha256;
            var id = sha is null ? Manifest.Name : $"{Manifest.Name}@{sha[..Math.Min(12, sha.Length)]}";
            return Manifest.Precision == "fp32" ? id : $"{id}-{Manifest.Precision}";
        }
    }

    /// <summary>
    /// Loads <paramref name="directory"/>: bundle.json if present, else model.json (a pulled base model), its files
    /// verified against bundle.json's sha256 unless <paramref name="verify"/> is false. Errors say what is missing or
    /// wrong and how to fix it; a max_length the model cannot run is refused here, not on the first long document.
    /// </summary>
    public static OnnxModel Load(string directory, SessionSettings settings, ILogger? logger = null, bool verify = true)
    {
        var clock = Stopwatch.StartNew();
        OrtEnvironment.Start(); // ONNX Runtime loads while the bundle is read and checked
        var folder = ModelFolder.Open(directory, verify, logger);
        var opened = clock.ElapsedMilliseconds;
        var (session, tokenizer, vocabMilliseconds) = folder.LoadSessionAndTokenizer(settings, logger);
        var created = clock.ElapsedMilliseconds;
        try
        {
            var model = new OnnxModel(folder.Directory, folder.Manifest, tokenizer, session);
            MaxLengthProbe.Run(tokenizer, folder, session.Session, batch => _ = model.IsClassifier ? model.ClassScores(batch) : model.Embed(batch));
            // Where start-up time goes (docs/PERFORMANCE.md, "Cold start"); PEFTONNX_Logging__LogLevel__Default=Information shows it in the CLI.
            logger?.LogInformation("Loaded {Directory} in {Total} ms: bundle.json and sha256 check {Open} ms, ONNX Runtime session {Session} ms (vocabulary {Vocab} ms beside it), max_length check {Probe} ms",
                folder.Directory, clock.ElapsedMilliseconds, opened, created - opened, vocabMilliseconds, clock.ElapsedMilliseconds - created);
            return model;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Sentence embeddings for each row: pooled as the manifest says, L2-normalised when it says so.</summary>
    public float[][] Embed(TokenBatch batch) => Embed(ModelInputs.From(batch));

    /// <summary>Sentence embeddings for inputs given as arrays.</summary>
    public float[][] Embed(ModelInputs batch)
    {
        float[][] pooled;
        if (Pooling == "pooler")
        {
            pooled = RunRows(batch, _poolerOutput!);
        }
        else
        {
            using var outputs = Run(batch, [_hiddenOutput!]);
            var hidden = outputs[0].GetTensorDataAsSpan<float>();
            var width = HiddenWidth(outputs[0], batch);
            pooled = Pooling switch
            {
                "mean" => Inference.Pooling.Mean(hidden, batch.AttentionMask.AsSpan(0, batch.ElementCount), batch.BatchSize, batch.SequenceLength, width),
                "cls" => Inference.Pooling.Cls(hidden, batch.BatchSize, batch.SequenceLength, width),
                _ => throw new InvalidDataException($"{Manifest.Name}: unknown pooling '{Pooling}'; expected mean, cls or pooler."),
            };
        }
        if (Manifest.Normalize)
        {
            foreach (var row in pooled)
                Inference.Pooling.L2Normalize(row);
        }
        return pooled;
    }

    /// <summary>
    /// Class scores per row, in label order: logits, or probabilities when <see cref="ClassOutputIsProbabilities"/>.
    /// A parallel bundle's row holds every task's scores one after the other, in <see cref="Tasks"/> order, from one run.
    /// </summary>
    public float[][] ClassScores(TokenBatch batch) => ClassScores(ModelInputs.From(batch));

    /// <summary>Class scores for inputs given as arrays.</summary>
    public float[][] ClassScores(ModelInputs batch)
    {
        if (!IsClassifier)
            throw new InvalidOperationException($"{Manifest.Name} is a feature-extraction model; it has no class scores (use embeddings, or zero-shot labels).");
        if (Tasks is { } tasks)
            return TaskClassScores(batch, tasks);
        var rows = RunRows(batch, _classOutput!);
        if (rows.Length > 0 && rows[0].Length != Manifest.Labels!.Count)
            throw new InvalidDataException($"{ModelPath} outputs {rows[0].Length} class scores but bundle.json lists {Manifest.Labels!.Count} labels.");
        return rows;
    }

    /// <summary>The raw last hidden state, (B, S, H) row-major: for parity tests and token-level use.</summary>
    public float[] LastHiddenState(TokenBatch batch) => LastHiddenState(ModelInputs.From(batch));

    /// <summary>The raw last hidden state for inputs given as arrays, (B, S, H) row-major.</summary>
    public float[] LastHiddenState(ModelInputs inputs)
    {
        if (_hiddenOutput is null)
            throw new InvalidOperationException($"{ModelPath} has no last_hidden_state output.");
        using var outputs = Run(inputs, [_hiddenOutput]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private float[][] TaskClassScores(ModelInputs batch, IReadOnlyList<BundleTaskHead> tasks)
    {
        using var outputs = Run(batch, _taskOutputs);
        var rows = new float[batch.BatchSize][];
        var width = tasks.Sum(t => t.Labels.Count);
        for (var r = 0; r < rows.Length; r++)
            rows[r] = new float[width];
        var offset = 0;
        for (var t = 0; t < tasks.Count; t++)
        {
            var labels = tasks[t].Labels.Count;
            var shape = outputs[t].GetTensorTypeAndShape().Shape;
            if (shape.Length != 2 || shape[0] != batch.BatchSize || shape[1] != labels)
                throw new InvalidDataException($"{ModelPath}: task {tasks[t].Name}'s output '{_taskOutputs[t]}' has shape [{string.Join(", ", shape)}], expected [{batch.BatchSize}, {labels}] ({labels} labels).");
            var data = outputs[t].GetTensorDataAsSpan<float>();
            for (var r = 0; r < rows.Length; r++)
                data.Slice(r * labels, labels).CopyTo(rows[r].AsSpan(offset));
            offset += labels;
        }
        return rows;
    }

    private string ResolveTaskOutput(BundleTaskHead task, HashSet<string> available)
    {
        var logical = task.Outputs.ContainsKey(ModelOutputs.Logits) ? ModelOutputs.Logits : ModelOutputs.Probabilities;
        return task.Outputs.TryGetValue(logical, out var mapped) && available.Contains(mapped)
            ? mapped
            : throw new InvalidDataException($"{ModelPath}: task {task.Name} maps {logical} to '{mapped ?? "(nothing)"}', which the model does not have (it has {string.Join(", ", available)}).");
    }

    private float[][] RunRows(ModelInputs batch, string output)
    {
        using var outputs = Run(batch, [output]);
        var shape = outputs[0].GetTensorTypeAndShape().Shape;
        if (shape.Length != 2 || shape[0] != batch.BatchSize)
            throw new InvalidDataException($"{ModelPath}: output '{output}' has shape [{string.Join(", ", shape)}], expected [{batch.BatchSize}, width].");
        return Inference.Pooling.Rows(outputs[0].GetTensorDataAsSpan<float>(), batch.BatchSize, (int)shape[1]);
    }

    private int HiddenWidth(OrtValue hidden, ModelInputs batch)
    {
        var shape = hidden.GetTensorTypeAndShape().Shape;
        if (shape.Length != 3 || shape[0] != batch.BatchSize || shape[1] != batch.SequenceLength)
            throw new InvalidDataException($"{ModelPath}: hidden states have shape [{string.Join(", ", shape)}], expected [{batch.BatchSize}, {batch.SequenceLength}, hidden].");
        return (int)shape[2];
    }

    /// <summary>
    /// Runs one batch. The int64 input tensors wrap the batch's own arrays (pinned, no copy); they are
    /// created once per batch and disposed with it. The caller disposes the returned outputs.
    /// </summary>
    private IDisposableReadOnlyCollection<OrtValue> Run(ModelInputs batch, IReadOnlyList<string> outputNames)
    {
        batch.Validate();
        if (batch.SequenceLength > MaxLength)
            throw new ArgumentException($"Batch sequence length {batch.SequenceLength} exceeds {Manifest.Name}'s max length {MaxLength}; encode with maxLength {MaxLength}.", nameof(batch));
        var shape = batch.Shape;
        var names = new List<string>(3) { "input_ids", "attention_mask" };
        var values = new List<OrtValue>(3)
        {
            Wrap(batch.InputIds, batch.ElementCount, shape),
            Wrap(batch.AttentionMask, batch.ElementCount, shape),
        };
        try
        {
            if (_inputNames.Contains("token_type_ids"))
            {
                names.Add("token_type_ids");
                values.Add(Wrap(batch.TokenTypeIds, batch.ElementCount, shape));
            }
            using var runOptions = new RunOptions();
            return _session.Session.Run(runOptions, names, values, outputNames);
        }
        finally
        {
            foreach (var value in values)
                value.Dispose();
        }
    }

    // Batch arrays may be pooled buffers longer than the tensor: wrap only the first B*S elements.
    private static OrtValue Wrap(long[] data, int count, long[] shape) =>
        OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, data.AsMemory(0, count), shape);

    private string? ResolveOutput(string logical, HashSet<string> available)
    {
        if (Manifest.Outputs.TryGetValue(logical, out var mapped))
        {
            return available.Contains(mapped)
                ? mapped
                : throw new InvalidDataException($"{ModelPath}: \"outputs\" maps {logical} to '{mapped}', which the model does not have (it has {string.Join(", ", available)}).");
        }
        return available.Contains(logical) ? logical : null;
    }

    public void Dispose() => _session.Dispose();
}
