namespace PeftOnnx.Benchmarking;

/// <summary>
/// One compared variant, parsed from <c>NAME=MODE:PATH</c>: MODE is <c>plain</c> (the 20-line ONNX Runtime
/// baseline), <c>bound</c> (IOBinding, outputs to preallocated host buffers), <c>device</c> (IOBinding, outputs
/// left on the GPU), <c>graph</c> (CUDA graph, small outputs copied to the host) or <c>graph-device</c>.
/// </summary>
public sealed record BenchVariant(string Name, string Mode, string ModelPath)
{
    public static readonly string[] Modes = ["plain", "bound", "device", "graph", "graph-device"];

    public static BenchVariant Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var equals = spec.IndexOf('=', StringComparison.Ordinal);
        var colon = equals < 0 ? -1 : spec.IndexOf(':', equals);
        if (equals <= 0 || colon < 0 || colon == spec.Length - 1)
            throw new ArgumentException($"Variant '{spec}' is not NAME=MODE:PATH (e.g. base=plain:models/minilm-l6/model.onnx); MODE is one of {string.Join(", ", Modes)}.", nameof(spec));
        var mode = spec[(equals + 1)..colon];
        if (!Modes.Contains(mode))
            throw new ArgumentException($"Variant '{spec}' has mode '{mode}'; expected one of {string.Join(", ", Modes)}.", nameof(spec));
        var path = spec[(colon + 1)..];
        if (!File.Exists(path))
            throw new FileNotFoundException($"Variant {spec[..equals]}: model {path} does not exist.", path);
        return new BenchVariant(spec[..equals], mode, path);
    }

    /// <summary>Creates the target; <paramref name="session"/> supplies device, threads and optimisation level for non-plain modes.</summary>
    public IBenchTarget CreateTarget(BenchSessionOptions session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return Mode switch
        {
            "plain" => new PlainOrtTarget(Name, ModelPath, session.Cuda, session.CudaDeviceId),
            "bound" => new BoundSessionTarget(Name, ModelPath, session),
            "device" => new BoundSessionTarget(Name, ModelPath, session with { Placement = OutputPlacement.Device }),
            "graph" => new BoundSessionTarget(Name, ModelPath, session with { CudaGraph = true }),
            "graph-device" => new BoundSessionTarget(Name, ModelPath, session with { CudaGraph = true, Placement = OutputPlacement.Device }),
            _ => throw new InvalidOperationException($"Unhandled mode {Mode}."),
        };
    }
}
