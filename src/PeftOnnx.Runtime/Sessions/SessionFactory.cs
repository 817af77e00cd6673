using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Core.Files;

namespace PeftOnnx.Runtime.Sessions;

/// <summary>
/// Creates ONNX Runtime sessions. CUDA goes through the CUDA execution provider (device id, memory limit);
/// with <see cref="DeviceKind.Auto"/>, a machine without the CUDA libraries runs on CPU after one quiet check
/// (logged once per factory at information level), and any other failure to build the session on CUDA falls back
/// to CPU with a warning that gives the reason. CPU sessions use one intra-op thread per physical core. Graph
/// optimizations are all on, or off for a model saved optimized (<see cref="SessionSettings.ModelPreOptimized"/>).
/// An ORT-format model comes as its bytes and runs from them in place: no parse, no copy of the weights.
/// </summary>
public sealed class SessionFactory
{
    /// <summary>Why CUDA cannot run in this process, found by loading its libraries once; null when they load.</summary>
    private static readonly Lazy<string?> CudaMissing = new(ProbeCuda);

    private readonly ILogger _logger;
    private int _cpuFallbackLogged;

    public SessionFactory(ILogger? logger = null)
    {
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// A session for <paramref name="modelPath"/>; with <paramref name="ortModel"/> (that file's bytes, ORT format, on the
    /// pinned heap: <see cref="Inference.ModelFolder.CreateSession"/>) the session is built from them, and holds them.
    /// </summary>
    public ModelSession Create(string modelPath, SessionSettings settings, byte[]? ortModel = null)
    {
        _ = OrtEnvironment.Instance; // telemetry off before any ONNX Runtime object
        var source = new ModelSource(modelPath, ortModel);
        if (ortModel is null)
        {
            if (!File.Exists(modelPath))
                throw new FileNotFoundException($"ONNX model {modelPath} does not exist.", modelPath);
            RegularFile.Require(modelPath); // ONNX Runtime opens it itself, and would block on a FIFO
        }

        if (settings.Device == DeviceKind.Auto && CudaMissing.Value is { } missing)
        {
            if (Interlocked.Exchange(ref _cpuFallbackLogged, 1) == 0)
                _logger.LogInformation("CUDA not available ({Reason}), using CPU", missing);
        }
        else if (settings.Device is DeviceKind.Cuda or DeviceKind.Auto)
        {
            try
            {
                var session = CreateCuda(source, settings);
                _logger.LogInformation("Running {Model} on CUDA device {DeviceId}", modelPath, settings.CudaDeviceId);
                return session;
            }
            catch (Exception e) when (settings.Device == DeviceKind.Auto && e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
            {
                _logger.LogWarning("CUDA is not available ({Reason}); running {Model} on CPU", Reason(e), modelPath);
            }
            catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
            {
                throw new InvalidOperationException(
                    $"--device cuda: the CUDA execution provider could not run {modelPath} on device {settings.CudaDeviceId}: {Reason(e)}. " +
                    "Install the CUDA and cuDNN libraries this ONNX Runtime build links against (the missing one is named above), or use --device auto|cpu.", e);
            }
        }
        return CreateCpu(source, settings);
    }

    /// <summary>
    /// Loads the NVIDIA driver library and ONNX Runtime's CUDA provider (which links cuBLAS, cuDNN, ...) without
    /// ONNX Runtime, so a CPU-only machine is recognised without a provider error; both are unloaded again.
    /// </summary>
    private static string? ProbeCuda()
    {
        var driver = OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1";
        if (!NativeLibrary.TryLoad(driver, out var driverHandle))
            return $"no NVIDIA driver: {driver} not found";
        NativeLibrary.Free(driverHandle);
        var provider = OperatingSystem.IsWindows() ? "onnxruntime_providers_cuda.dll" : "libonnxruntime_providers_cuda.so";
        if (!NativeLibrary.TryLoad(provider, typeof(InferenceSession).Assembly, null, out var providerHandle))
            return $"{provider} or a CUDA library it links against did not load";
        NativeLibrary.Free(providerHandle);
        return null;
    }

    private static ModelSession CreateCuda(ModelSource source, SessionSettings settings)
    {
        using var options = BaseOptions(settings, source);
        using var cuda = new OrtCUDAProviderOptions();
        var providerOptions = new Dictionary<string, string> { ["device_id"] = settings.CudaDeviceId.ToString() };
        if (settings.GpuMemoryLimit is { } limit)
            providerOptions["gpu_mem_limit"] = limit.ToString();
        cuda.UpdateOptions(providerOptions);
        options.AppendExecutionProvider_CUDA(cuda);
        return new ModelSession(source.Open(options), DeviceKind.Cuda, 0, source.OrtModel);
    }

    private ModelSession CreateCpu(ModelSource source, SessionSettings settings)
    {
        var threads = settings.IntraOpThreads ?? MachineInfo.PhysicalCores;
        if (threads < 1)
            throw new ArgumentOutOfRangeException(nameof(settings), $"IntraOpThreads must be at least 1, got {threads}.");
        using var options = BaseOptions(settings, source);
        options.IntraOpNumThreads = threads;
        options.InterOpNumThreads = 1;
        options.ExecutionMode = ExecutionMode.ORT_SEQUENTIAL;
        if (!settings.AllowSpinning)
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        _logger.LogInformation("Running {Model} on CPU with {Threads} intra-op threads{Spin}", source.Path, threads, settings.AllowSpinning ? "" : " (no spinning)");
        return new ModelSession(source.Open(options), DeviceKind.Cpu, threads, source.OrtModel);
    }

    private static SessionOptions BaseOptions(SessionSettings settings, ModelSource source)
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = settings.ModelPreOptimized ? GraphOptimizationLevel.ORT_DISABLE_ALL : GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        if (source.OrtModel is not null)
        {
            // The graph and the weights are read where they lie in the pinned array (ONNX Runtime's "ORT format" docs).
            options.AddSessionConfigEntry("session.use_ort_model_bytes_directly", "1");
            options.AddSessionConfigEntry("session.use_ort_model_bytes_for_initializers", "1");
        }
        return options;
    }

    /// <summary>A model file, or an ORT-format model's bytes read from it.</summary>
    private sealed record ModelSource(string Path, byte[]? OrtModel)
    {
        public InferenceSession Open(SessionOptions options) =>
            OrtModel is null ? new InferenceSession(Path, options) : new InferenceSession(OrtModel, options);
    }

    /// <summary>The useful part of an ONNX Runtime error: its first line, without the source location prefix.</summary>
    internal static string Reason(Exception e)
    {
        var message = e.Message;
        var newline = message.IndexOf('\n', StringComparison.Ordinal);
        if (newline >= 0)
            message = message[..newline];
        // "[ErrorCode:Fail] /onnxruntime_src/...cc:2043 Provider& ...Get() [ONNXRuntimeError] : 1 : FAIL : Failed to load ..."
        var status = message.LastIndexOf(" : ", StringComparison.Ordinal);
        var marker = message.IndexOf("[ONNXRuntimeError]", StringComparison.Ordinal);
        if (marker >= 0 && status > marker)
            message = message[(status + 3)..];
        return message.Trim();
    }
}
