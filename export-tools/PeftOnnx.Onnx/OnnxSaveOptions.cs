namespace PeftOnnx.Onnx;

/// <summary>When <see cref="OnnxModelFile.Save"/> moves tensor data into a side file.</summary>
public enum ExternalDataMode
{
    /// <summary>Only when the model would not fit in one protobuf message (2 GiB).</summary>
    Auto,
    /// <summary>Always: tensors of at least <see cref="OnnxSaveOptions.ExternalDataThreshold"/> bytes go to the side file.</summary>
    Always,
    /// <summary>Never; saving a model over 2 GiB then fails.</summary>
    Never,
}

/// <summary>How <see cref="OnnxModelFile.Save"/> writes a model.</summary>
public sealed record OnnxSaveOptions
{
    public static OnnxSaveOptions Default { get; } = new();

    public ExternalDataMode ExternalData { get; init; } = ExternalDataMode.Auto;

    /// <summary>Side file name, relative to the model's folder; default "&lt;model file name&gt;.data".</summary>
    public string? ExternalDataFileName { get; init; }

    /// <summary>Tensors smaller than this stay inside the model (onnx's convert_model_to_external_data uses 1024).</summary>
    public int ExternalDataThreshold { get; init; } = 1024;
}
