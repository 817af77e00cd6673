namespace PeftOnnx.Runtime.Sessions;

/// <summary>How to create an ONNX Runtime session for a model file.</summary>
public sealed record SessionSettings
{
    public DeviceKind Device { get; init; } = DeviceKind.Auto;

    /// <summary>CUDA device ordinal.</summary>
    public int CudaDeviceId { get; init; }

    /// <summary>Upper bound for the CUDA memory arena in bytes; null leaves ONNX Runtime's default (no limit).</summary>
    public long? GpuMemoryLimit { get; init; }

    /// <summary>Intra-op threads on CPU; null means one per physical core (hyper-threads slow BERT matmuls down).</summary>
    public int? IntraOpThreads { get; init; }

    /// <summary>
    /// Let idle intra-op threads spin between kernels (ONNX Runtime's default): best latency when the model has the
    /// cores to itself; turn off in servers where request handling and tokenization share the cores, or spinning
    /// threads steal their time.
    /// </summary>
    public bool AllowSpinning { get; init; } = true;

    /// <summary>
    /// The model file was saved already optimized (bundle.json graph_optimization, <see cref="OfflineOptimization"/>):
    /// the session runs it as it is, with graph optimizations off, instead of optimizing it again at every start.
    /// </summary>
    public bool ModelPreOptimized { get; init; }

    public static SessionSettings Default { get; } = new();
}
