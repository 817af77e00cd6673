namespace PeftOnnx.Benchmarking;

/// <summary>Where a bound run leaves its outputs.</summary>
public enum OutputPlacement
{
    /// <summary>Copied into host buffers allocated once per batch shape (the caller reads them without another copy).</summary>
    Host,

    /// <summary>Left in device memory (CUDA): nothing is copied back; what a pipeline that keeps tensors on the GPU pays.</summary>
    Device,
}
