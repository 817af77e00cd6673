using Microsoft.ML.OnnxRuntime;

namespace PeftOnnx.Benchmarking;

/// <summary>Session settings of a <see cref="BoundSessionTarget"/>; each is a lever the benchmark measures.</summary>
public sealed record BenchSessionOptions
{
    public bool Cuda { get; init; }

    public int CudaDeviceId { get; init; }

    /// <summary>Intra-op threads on CPU; null leaves ONNX Runtime's default (one per physical core).</summary>
    public int? IntraOpThreads { get; init; }

    public GraphOptimizationLevel OptimizationLevel { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;

    /// <summary>Whether idle intra-op threads spin (ONNX Runtime's default) or sleep between runs.</summary>
    public bool AllowSpinning { get; init; } = true;

    /// <summary>Capture CUDA graphs (the CUDA provider's enable_cuda_graph); needs fixed shapes per graph id.</summary>
    public bool CudaGraph { get; init; }

    public OutputPlacement Placement { get; init; } = OutputPlacement.Host;

    public SessionOptions CreateSessionOptions()
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = OptimizationLevel,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        try
        {
            if (IntraOpThreads is { } threads)
                options.IntraOpNumThreads = threads;
            if (!AllowSpinning)
                options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            if (Cuda)
            {
                using var cuda = new OrtCUDAProviderOptions();
                var providerOptions = new Dictionary<string, string> { ["device_id"] = CudaDeviceId.ToString(System.Globalization.CultureInfo.InvariantCulture) };
                if (CudaGraph)
                    providerOptions["enable_cuda_graph"] = "1";
                cuda.UpdateOptions(providerOptions);
                options.AppendExecutionProvider_CUDA(cuda);
            }
            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }

    public string Describe() =>
        (Cuda ? $"CUDA device {CudaDeviceId}{(CudaGraph ? " with CUDA graphs" : "")}" : $"CPU, intra-op threads {(IntraOpThreads?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "ORT default")}{(AllowSpinning ? "" : ", no spinning")}")
        + $", {OptimizationLevel}";
}
