namespace PeftOnnx.Models;

/// <summary>What is on disk for one base model, as `models list` reports it.</summary>
public enum ModelFileState
{
    /// <summary>Every file is present and matches the manifest's sha256.</summary>
    Pulled,

    /// <summary>At least one file is absent: run `peftonnx models pull`.</summary>
    Missing,

    /// <summary>A file is present but its contents differ from the manifest (edited, truncated, other version).</summary>
    Mismatch,
}
