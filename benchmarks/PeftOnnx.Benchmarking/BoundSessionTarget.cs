using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Benchmarking;

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
    private readonly Dictionary<string, OrtValue> _readable = new(StringComparer.Ordinal);
    private readonly List<OrtMemoryAllocation> _allocations = [];
    private readonly List<(IntPtr Device, IntPtr Host, long Bytes)> _inputCopies = [];
    private readonly List<(IntPtr Host, IntPtr Device, long Bytes)> _outputCopies = [];
    private RunOptions _runOptions = new();
    private OrtIoBinding? _binding;

    public BoundSessionTarget(string name, string modelPath, BenchSessionOptions settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Name = name;
        _cuda = settings.Cuda;
        _cudaGraph = settings.CudaGraph;
        _placement = settings.Placement;
        if (!_cuda && (_cudaGraph || _placement == OutputPlacement.Device))
            throw new ArgumentException($"{name}: CUDA graphs and device-resident outputs need the CUDA provider (bench matrix --cuda).", nameof(settings));
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
                var bytes = (long)batch.ElementCount * sizeof(long);
                var device = DeviceTensor(TensorElementType.Int64, shape, bytes);
                _inputCopies.Add((device.Pointer, HostPointer(host), bytes));
                _binding.BindInput(input, device.Value);
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
            if (_cudaGraph)
            {
                // Graph outputs must be device buffers too; for host placement the copy back follows each replay.
                var bytes = dims.Aggregate(1L, (a, d) => a * d) * ElementSize(type);
                var device = DeviceTensor(type, dims, bytes);
                _binding.BindOutput(output, device.Value);
                if (_placement == OutputPlacement.Host)
                {
                    var host = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, type, dims);
                    _bound.Add(host);
                    _outputCopies.Add((HostPointer(host), device.Pointer, bytes));
                    _readable[output] = host;
                }
                continue;
            }
            var onDevice = _placement == OutputPlacement.Device;
            var value = OrtValue.CreateAllocatedTensorValue(onDevice ? _deviceAllocator! : OrtAllocator.DefaultInstance, type, dims);
            _bound.Add(value);
            _binding.BindOutput(output, value);
            if (!onDevice)
                _readable[output] = value;
        }
        _runOptions.Dispose();
        _runOptions = new RunOptions();
        if (_cudaGraph)
            _runOptions.AddRunConfigEntry("gpu_graph_id", GraphId(batch).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public void Run()
    {
        var binding = _binding ?? throw new InvalidOperationException($"{Name}: call Prepare before Run.");
        foreach (var (device, host, bytes) in _inputCopies)
            CudaCopy.ToDevice(device, host, bytes);
        _session.RunWithBinding(_runOptions, binding);
        if (_cuda)
            binding.SynchronizeBoundOutputs();
        foreach (var (host, device, bytes) in _outputCopies)
            CudaCopy.ToHost(host, device, bytes);
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

    /// <summary>A tensor over a device allocation whose address the caller keeps (for cudaMemcpy).</summary>
    private (OrtValue Value, IntPtr Pointer) DeviceTensor(TensorElementType type, long[] shape, long bytes)
    {
        var allocation = _deviceAllocator!.Allocate(checked((uint)bytes));
        _allocations.Add(allocation);
        var pointer = allocation.DangerousGetHandle();
        var value = OrtValue.CreateTensorValueWithData(_deviceMemory!, type, shape, pointer, bytes);
        _bound.Add(value);
        return (value, pointer);
    }

    private static unsafe IntPtr HostPointer(OrtValue host) => (IntPtr)System.Runtime.CompilerServices.Unsafe.AsPointer(ref host.GetTensorMutableDataAsSpan<byte>().GetPinnableReference());

    private static int ElementSize(TensorElementType type) => type switch
    {
        TensorElementType.Float or TensorElementType.Int32 => 4,
        TensorElementType.Float16 => 2,
        TensorElementType.Int64 or TensorElementType.Double => 8,
        _ => throw new InvalidDataException($"Output element type {type} is not handled by the CUDA graph path."),
    };

    /// <summary>One CUDA graph per batch shape (ONNX Runtime keys captured graphs by gpu_graph_id).</summary>
    private static int GraphId(TokenBatch batch) => (batch.BatchSize * 4096) + batch.SequenceLength;

    private void ReleaseBinding()
    {
        _binding?.Dispose();
        _binding = null;
        foreach (var value in _bound)
            value.Dispose();
        _bound.Clear();
        foreach (var allocation in _allocations)
            allocation.Dispose();
        _allocations.Clear();
        _inputCopies.Clear();
        _outputCopies.Clear();
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
