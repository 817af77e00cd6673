namespace PeftOnnx.Runtime.Sessions;

/// <summary>Where a session runs: <c>--device auto|cpu|cuda</c>.</summary>
public enum DeviceKind
{
    /// <summary>CUDA when the execution provider loads and a session can be created on it, otherwise CPU (logging why).</summary>
    Auto,

    /// <summary>CPU execution provider only.</summary>
    Cpu,

    /// <summary>CUDA execution provider; failing to get it is an error, not a fallback.</summary>
    Cuda,
}
