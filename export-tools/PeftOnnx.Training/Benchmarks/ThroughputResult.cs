namespace PeftOnnx.Training.Benchmarks;

/// <summary>Training and ONNX Runtime inference speed on the same batches, measured interleaved in one process.</summary>
public sealed record ThroughputResult
{
    public required string Method { get; init; }
    public long TrainableParameters { get; init; }
    public double TrainablePercent { get; init; }
    public int Batches { get; init; }
    /// <summary>Padded tokens (rows × longest row) over all timed batches.</summary>
    public long Tokens { get; init; }
    public double TrainSeconds { get; init; }
    public double InferenceSeconds { get; init; }
    public double TrainTokensPerSecond => Tokens / TrainSeconds;
    public double InferenceTokensPerSecond => Tokens / InferenceSeconds;
    public double Ratio => TrainTokensPerSecond / InferenceTokensPerSecond;
    public bool GradientCheckpointing { get; init; }
    /// <summary>
    /// Peak resident memory (VmHWM) after training steps on the longest batch, before ONNX Runtime is loaded: the
    /// training side alone (model, optimizer state, activations, allocator).
    /// </summary>
    public long TrainingPeakBytes { get; init; }
    /// <summary>Resident memory after loading the model and applying the method, before any step: the part all methods share.</summary>
    public long ModelLoadedBytes { get; init; }
    /// <summary>The process's peak resident memory after the run (VmHWM), ONNX Runtime's session included.</summary>
    public long PeakMemoryBytes { get; init; }
}
