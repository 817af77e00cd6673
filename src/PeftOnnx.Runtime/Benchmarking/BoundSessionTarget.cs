using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Runtime.Benchmarking;

/// <summary>
/// The runtime's fast path, timed: a session with explicit settings and an <see cref="OrtIoBinding"/> prepared once
/// per batch shape. Inputs are bound as OrtValues over the batch's pinned arrays; outputs go to host buffers
/// allocated once (<see cref="OutputPlacement.Host"/>) or stay on the device (<see cref="OutputPlacement.Device"/>).
/// With <c>cudaGraph</c> the CUDA provider captures the whole run as a CUDA graph on the first run of a shape and
/// replays it; inputs then live in device buffers at fixed addresses, refreshed from the host batch on every run
/// (that copy is timed).
/// </summary>
public sealed class BoundSessionTarget : IBenchTarget
{
    private readonly InferenceSession _session;
    private readonly bool _cuda;
    private readonly bool _cudaGraph;
    private readonly OutputPlacement _placement;
    private readonly OrtMemoryInfo? _deviceMemory;
    private readonly OrtAllocator? _deviceAllocator;
    private readonly List<OrtValue> _bound = [];
    private readonly List<OrtValue> _hostInputs = [];
    private readonly List<OrtValue> _deviceInputs = [];
    private readonly List<OrtValue> _deviceOutputs = [];
    private readonly List<OrtValue> _hostOutputs = [];
    private readonly RunOptions _runOptions = new();
    private readonly Dictionary<string, OrtValue> _readable = new(StringComparer.Ordinal);
    private OrtIoBinding? _binding;

    public BoundSessionTarget(string name, string modelPath, BenchSessionOptions settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Name = name;
        _cuda = settings.Cuda;
        _cudaGraph = settings.CudaGraph;
        _placement = settings.Placement;
        if (!_cuda && (_cudaGraph || _placement == OutputPlacement.Device))
            throw new ArgumentException($"{name}: CUDA graphs and device-resident outputs need the CUDA provider (--device cuda).", nameof(settings));
        using var options = settings.CreateSessionOptions();
        _session = new InferenceSession(modelPath, options);
        if (_cuda)
        {
            _deviceMemory = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, settings.CudaDeviceId, OrtMemType.Default);
            _deviceAllocator = new OrtAllocator(_session, _deviceMemory);
        }
        Settings = $"{name}: {Path.GetFileName(modelPath)}, {settings.Describe()}, IOBinding, outputs {string.Join(", ", _session.OutputNames)} " +
                   (_placement == OutputPlacement.Device ? "left on the device" : "copied to preallocated host buffers");
    }

    public string Name { get; }

    public string Settings { get; }

    public void Prepare(TokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ReleaseBinding();
        long[] shape = [batch.BatchSize, batch.SequenceLength];
        _binding = _session.CreateIoBinding();
        foreach (var input in _session.InputNames)
        {
            var host = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, BenchInputs.Select(batch, input), shape);
            _bound.Add(host);
            if (_cudaGraph)
            {
                // A captured graph replays fixed addresses: inputs must sit in device buffers that never move.
                var device = OrtValue.CreateAllocatedTensorValue(_deviceAllocator!, TensorElementType.Int64, shape);
                _bound.Add(device);
                _hostInputs.Add(host);
                _deviceInputs.Add(device);
                _binding.BindInput(input, device);
            }
            else
            {
                _binding.BindInput(input, host);
            }
        }
        foreach (var output in _session.OutputNames)
        {
            var dims = OutputShape(output, batch);
            var type = _session.OutputMetadata[output].ElementDataType;
            var onDevice = _placement == OutputPlacement.Device || _cudaGraph;
            var value = OrtValue.CreateAllocatedTensorValue(onDevice ? _deviceAllocator! : OrtAllocator.DefaultInstance, type, dims);
            _bound.Add(value);
            _binding.BindOutput(output, value);
            if (_cudaGraph && _placement == OutputPlacement.Host)
            {
                // Graph outputs must be device buffers too; the host copy follows each replay.
                var host = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, type, dims);
                _bound.Add(host);
                _deviceOutputs.Add(value);
                _hostOutputs.Add(host);
                _readable[output] = host;
            }
            else if (!onDevice)
            {
                _readable[output] = value;
            }
        }
        if (_cudaGraph)
            _runOptions.AddRunConfigEntry("gpu_graph_id", GraphId(batch).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public void Run()
    {
        var binding = _binding ?? throw new InvalidOperationException($"{Name}: call Prepare before Run.");
        if (_cudaGraph)
            OrtEnv.Instance().CopyTensors(_hostInputs, _deviceInputs, null);
        _session.RunWithBinding(_runOptions, binding);
        if (_cuda)
            binding.SynchronizeBoundOutputs();
        if (_hostOutputs.Count > 0)
            OrtEnv.Instance().CopyTensors(_deviceOutputs, _hostOutputs, null);
    }

    public IReadOnlyDictionary<string, float[]> ReadOutputs()
    {
        Run();
        return _readable
            .Where(p => p.Value.GetTensorTypeAndShape().ElementDataType == TensorElementType.Float)
            .ToDictionary(p => p.Key, p => p.Value.GetTensorDataAsSpan<float>().ToArray(), StringComparer.Ordinal);
    }

    /// <summary>Output dims for a batch: the model's declared dims with batch and sequence filled in.</summary>
    private long[] OutputShape(string output, TokenBatch batch)
    {
        var declared = _session.OutputMetadata[output].Dimensions;
        var symbolic = _session.OutputMetadata[output].SymbolicDimensions;
        var dims = new long[declared.Length];
        for (var d = 0; d < dims.Length; d++)
        {
            dims[d] = declared[d] > 0 ? declared[d] : d switch
            {
                0 => batch.BatchSize,
                1 when declared.Length == 3 => batch.SequenceLength,
                _ => throw new InvalidDataException($"{Name}: cannot tell the size of dim {d} ('{symbolic[d]}') of output '{output}'; only batch and sequence may be dynamic."),
            };
        }
        return dims;
    }

    /// <summary>One CUDA graph per batch shape (ONNX Runtime keys captured graphs by gpu_graph_id).</summary>
    private static int GraphId(TokenBatch batch) => (batch.BatchSize * 4096) + batch.SequenceLength;

    private void ReleaseBinding()
    {
        _binding?.Dispose();
        _binding = null;
        foreach (var value in _bound)
            value.Dispose();
        _bound.Clear();
        _hostInputs.Clear();
        _deviceInputs.Clear();
        _hostOutputs.Clear();
        _deviceOutputs.Clear();
        _readable.Clear();
    }

    public void Dispose()
    {
        ReleaseBinding();
        _runOptions.Dispose();
        _deviceAllocator?.Dispose();
        _deviceMemory?.Dispose();
        _session.Dispose();
    }
}
