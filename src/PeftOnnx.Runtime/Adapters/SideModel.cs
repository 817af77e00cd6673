using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Json;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Sessions;
using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Runtime.Adapters;

/// <summary>
/// A side-graph bundle served with many adapters: one ONNX Runtime session for the base graph, adapters from an
/// <see cref="AdapterRegistry"/>. Form "side": each run activates one adapter (<c>RunOptions.AddActiveLoraAdapter</c>).
/// Form "mixed": one run serves rows of different adapters through the stacked inputs and <c>adapter_index</c>.
/// Thread-safe: runs may overlap, adapters may come and go meanwhile.
/// </summary>
public sealed class SideModel : IDisposable
{
    private readonly ModelSession _session;
    private readonly HashSet<string> _inputs;
    private readonly object _stackGate = new();
    private MixedAdapterStacks? _stack;

    private SideModel(string directory, BundleManifest manifest, SideGraphManifest side, BertTokenizer tokenizer, ModelSession session, AdapterRegistry registry)
    {
        Directory = directory;
        Manifest = manifest;
        Side = side;
        Tokenizer = tokenizer;
        _session = session;
        Registry = registry;
        _inputs = [.. session.Session.InputMetadata.Keys];
    }

    public string Directory { get; }

    public BundleManifest Manifest { get; }

    public SideGraphManifest Side { get; }

    public BertTokenizer Tokenizer { get; }

    public AdapterRegistry Registry { get; }

    public bool IsMixed => Side.Form == SideGraphManifest.MixedForm;

    /// <summary>Where the session runs: <see cref="Sessions.DeviceKind.Cpu"/> or <see cref="Sessions.DeviceKind.Cuda"/>.</summary>
    public Sessions.DeviceKind Device => _session.Device;

    public bool IsClassifier => Manifest.Task == BundleTask.SequenceClassification;

    /// <summary>The output a score reads: logits for a classifier, last_hidden_state otherwise.</summary>
    public string PrimaryOutput => IsClassifier
        ? Manifest.Outputs.GetValueOrDefault("logits", "logits")
        : Manifest.Outputs.GetValueOrDefault("last_hidden_state", "last_hidden_state");

    /// <summary>
    /// Loads a side bundle, its files verified against bundle.json unless <paramref name="verify"/> is false; adapters come
    /// from <paramref name="adapterDirectory"/> (default: the bundle's adapters/ folder).
    /// </summary>
    public static SideModel Load(string directory, SessionSettings settings, string? adapterDirectory = null, bool watch = true, ILogger? logger = null, bool verify = true)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var full = Path.GetFullPath(directory);
        var bundlePath = Path.Combine(full, BundleManifest.FileName);
        var sidePath = Path.Combine(full, SideGraphManifest.FileName);
        if (!File.Exists(bundlePath))
            throw new FileNotFoundException($"{full} has no {BundleManifest.FileName}; pass a bundle folder made by `peftonnx-export export --mode side`.", bundlePath);
        if (!File.Exists(sidePath))
            throw new FileNotFoundException($"{full} is not a side-graph bundle (no {SideGraphManifest.FileName}); --adapter needs a bundle exported with --mode side or --mode mixed.", sidePath);
        OrtEnvironment.Start(); // ONNX Runtime loads while the bundle is read and checked
        var folder = ModelFolder.Open(full, verify, logger);
        var side = PeftJson.Load<SideGraphManifest>(sidePath);
        var (session, tokenizer, _) = folder.LoadSessionAndTokenizer(settings, logger);
        AdapterRegistry? registry = null;
        SideModel? model = null;
        try
        {
            registry = new AdapterRegistry(adapterDirectory ?? Path.Combine(full, SideGraphManifest.AdapterFolder), side, watch, logger);
            model = new SideModel(full, folder.Manifest, side, tokenizer, session, registry);
            MaxLengthProbe.Run(tokenizer, folder, session.Session, batch => model.Probe(batch));
            return model;
        }
        catch
        {
            if (model is not null)
            {
                model.Dispose(); // its registry and session too
            }
            else
            {
                registry?.Dispose();
                session.Dispose();
            }
            throw;
        }
    }

    /// <summary>Runs the base graph (no adapter; in the mixed form every row at index 0, the zero adapter).</summary>
    private void Probe(TokenBatch batch)
    {
        var inputs = SideInputs.From(batch);
        if (!IsMixed)
        {
            using var plain = new RunOptions();
            Execute(inputs, plain, [], [], PrimaryOutput);
            return;
        }
        var stack = EnterStack();
        try
        {
            using var index = OrtValue.CreateTensorValueFromMemory(new long[batch.BatchSize], [batch.BatchSize]);
            using var runOptions = new RunOptions();
            Execute(inputs, runOptions, [.. stack.InputNames, Side.AdapterIndexInput!], [.. stack.Values, index], PrimaryOutput);
        }
        finally
        {
            stack.Exit();
        }
    }

    /// <summary>Runs a batch with one adapter for every row (null: the base graph's defaults); returns <paramref name="output"/> and its shape.</summary>
    public (float[] Values, long[] Shape) Run(TokenBatch batch, string? adapter, string? output = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return Run(SideInputs.From(batch), adapter, output);
    }

    /// <summary>One run where row i uses adapter <paramref name="rowAdapters"/>[i] (null = none); mixed bundles only.</summary>
    public (float[] Values, long[] Shape) RunMixed(TokenBatch batch, IReadOnlyList<string?> rowAdapters, string? output = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return RunMixed(SideInputs.From(batch), rowAdapters, output);
    }

    /// <inheritdoc cref="Run(TokenBatch, string?, string?)"/>
    public (float[] Values, long[] Shape) Run(SideInputs batch, string? adapter, string? output = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        output ??= PrimaryOutput;
        if (IsMixed)
            return RunMixed(batch, [.. Enumerable.Repeat(adapter, batch.BatchSize)], output);
        using var lease = adapter is null ? null : Registry.Acquire(adapter);
        using var runOptions = new RunOptions();
        if (lease is not null)
            runOptions.AddActiveLoraAdapter(lease.Adapter.Native);
        return Execute(batch, runOptions, [], [], output);
    }

    /// <inheritdoc cref="RunMixed(TokenBatch, IReadOnlyList{string?}, string?)"/>
    public (float[] Values, long[] Shape) RunMixed(SideInputs batch, IReadOnlyList<string?> rowAdapters, string? output = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(rowAdapters);
        if (!IsMixed)
            throw new InvalidOperationException($"{Manifest.Name} is a \"{Side.Form}\" side graph: one adapter per run. Export with --mode mixed to serve rows of different adapters in one run.");
        if (rowAdapters.Count != batch.BatchSize)
            throw new ArgumentException($"{rowAdapters.Count} row adapters given for a batch of {batch.BatchSize} rows.", nameof(rowAdapters));
        output ??= PrimaryOutput;
        var stack = EnterStack();
        try
        {
            var index = new long[batch.BatchSize];
            for (var i = 0; i < index.Length; i++)
            {
                if (!stack.TrySlot(rowAdapters[i], out index[i]))
                    throw Registry.NotFound(rowAdapters[i]!);
                if (index[i] == 0 && IsClassifier)
                    throw new ArgumentException($"row {i} has no adapter, but every row of the classification bundle {Manifest.Name} needs one (its classifier lives in the adapter).", nameof(rowAdapters));
            }
            using var indexValue = OrtValue.CreateTensorValueFromMemory(index, [index.Length]);
            using var runOptions = new RunOptions();
            return Execute(batch, runOptions, [.. stack.InputNames, Side.AdapterIndexInput!], [.. stack.Values, indexValue], output);
        }
        finally
        {
            stack.Exit();
        }
    }

    private MixedAdapterStacks EnterStack()
    {
        while (true)
        {
            MixedAdapterStacks stack;
            lock (_stackGate)
            {
                if (_stack is null || _stack.Version != Registry.Version)
                {
                    _stack?.Retire();
                    _stack = new MixedAdapterStacks(Side, [.. Registry.Adapters.Values.OrderBy(a => a.Name, StringComparer.Ordinal)], Registry.Version);
                }
                stack = _stack;
            }
            if (stack.TryEnter())
                return stack;
        }
    }

    private (float[] Values, long[] Shape) Execute(SideInputs batch, RunOptions runOptions, List<string> extraNames, List<OrtValue> extraValues, string output)
    {
        long[] shape = [batch.BatchSize, batch.SequenceLength];
        var owned = new List<OrtValue>
        {
            OrtValue.CreateTensorValueFromMemory(batch.InputIds, shape),
            OrtValue.CreateTensorValueFromMemory(batch.AttentionMask, shape),
        };
        var names = new List<string> { "input_ids", "attention_mask" };
        try
        {
            if (_inputs.Contains("token_type_ids"))
            {
                names.Add("token_type_ids");
                owned.Add(OrtValue.CreateTensorValueFromMemory(batch.TokenTypeIds, shape));
            }
            names.AddRange(extraNames);
            using var results = _session.Session.Run(runOptions, names, [.. owned, .. extraValues], [output]);
            var info = results[0].GetTensorTypeAndShape();
            return (results[0].GetTensorDataAsSpan<float>().ToArray(), info.Shape);
        }
        finally
        {
            foreach (var value in owned)
                value.Dispose();
        }
    }

    public void Dispose()
    {
        lock (_stackGate)
        {
            _stack?.Retire();
            _stack = null;
        }
        Registry.Dispose();
        _session.Dispose();
    }
}
