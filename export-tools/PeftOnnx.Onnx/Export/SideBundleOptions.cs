namespace PeftOnnx.Onnx.Export;

/// <summary>What <see cref="SideBundleExporter"/> builds: one base graph with adapter inputs, plus one .onnx_adapter per adapter.</summary>
public sealed record SideBundleOptions
{
    public required string BaseDirectory { get; init; }

    /// <summary>PEFT adapter folders, all of one peft_type; the first decides the head (labels) and the graph's defaults.</summary>
    public required IReadOnlyList<string> AdapterDirectories { get; init; }

    public required string OutputDirectory { get; init; }

    /// <summary>"side" (one adapter per run, OrtLoraAdapter) or "mixed" (per-row adapter index).</summary>
    public string Form { get; init; } = "side";

    /// <summary>LoRA: modules (or target_modules entries such as "query") to give a branch beyond those the adapters use.</summary>
    public IReadOnlyList<string> ExtraTargets { get; init; } = [];

    /// <summary>LoRA: the highest rank the bundle accepts; null = max(64, the adapters' highest rank).</summary>
    public int? MaxRank { get; init; }

    public IReadOnlyList<string>? Labels { get; init; }

    public bool Force { get; init; }

    /// <summary>Convert adapters that record another base model (<see cref="Core.Adapters.AdapterBaseCheck"/>); the mismatch becomes a warning.</summary>
    public bool AllowBaseMismatch { get; init; }

    /// <summary>With a pooler head, let the last layer compute only the [CLS] row (<see cref="Passes.ClsOnlyLastLayerPass"/>).</summary>
    public bool ClsOnlyLastLayer { get; init; } = true;

    public string? Name { get; init; }
}
