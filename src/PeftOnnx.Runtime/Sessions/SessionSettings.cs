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

    public static SessionSettings Default { get; } = new();
}
