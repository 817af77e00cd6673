namespace PeftOnnx.Onnx.Export;

/// <summary>What <see cref="BundleExporter"/> builds: base model folder + adapter folder -> bundle folder.</summary>
public sealed record BundleExportOptions
{
    /// <summary>A pulled base model folder: model.onnx, the vocab, model.json.</summary>
    public required string BaseDirectory { get; init; }

    /// <summary>A PEFT adapter folder (adapter_config.json + adapter_model.safetensors).</summary>
    public required string AdapterDirectory { get; init; }

    /// <summary>The bundle folder to create.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Class labels in logit order; null gives label_0..label_{n-1} for an adapter with a classifier.</summary>
    public IReadOnlyList<string>? Labels { get; init; }

    /// <summary>"fp32" or "fp16".</summary>
    public string Precision { get; init; } = "fp32";

    /// <summary>"none" or "int8" (dynamic quantization of the MatMul weights).</summary>
    public string Quantize { get; init; } = "none";

    /// <summary>
    /// Let the last layer compute only the [CLS] row when the head is the pooler (<see cref="Passes.ClsOnlyLastLayerPass"/>):
    /// same outputs, about a sixth less work for a 6-layer encoder. Off keeps the base graph's last layer as it is.
    /// </summary>
    public bool ClsOnlyLastLayer { get; init; } = true;

    /// <summary>Export even when the adapter records another base model (<see cref="Core.Adapters.AdapterBaseCheck"/>); the mismatch becomes a warning.</summary>
    public bool AllowBaseMismatch { get; init; }

    /// <summary>
    /// A bundle for the edge runtime (`--edge`): only what `peftonnx score`/`serve` read. The adapter's config is not
    /// copied into bundle.json or the model's metadata (its sha256 and PEFT type stay, to say what was merged); the
    /// files' sha256 are recorded as always and checked at load.
    /// </summary>
    public bool Edge { get; init; }

    /// <summary>
    /// With <see cref="Edge"/>: writes the exported ONNX file (first argument) as ONNX Runtime's extended graph
    /// optimizations leave it, in ONNX Runtime's format (second argument: the bundle's model.ort), and bundle.json records
    /// graph_optimization "extended", so the runtime neither parses nor optimizes it at every start. The export CLI passes
    /// <c>OfflineOptimization.SaveOrtFormat</c> (this library has no ONNX Runtime); null writes the model as exported (ONNX).
    /// Not applied to fp16 bundles (for GPUs, whose providers fuse differently).
    /// </summary>
    public Action<string, string>? OptimizeForEdge { get; init; }

    /// <summary>Replace an existing output folder.</summary>
    public bool Force { get; init; }

    /// <summary>Bundle name in bundle.json; default: the output folder's name.</summary>
    public string? Name { get; init; }
}
