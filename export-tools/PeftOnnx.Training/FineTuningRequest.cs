using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Methods;
using PeftOnnx.Training.TrainingLoop;

namespace PeftOnnx.Training;

/// <summary>Everything one `peftonnx-export train` run needs.</summary>
public sealed record FineTuningRequest
{
    /// <summary>A base model folder (models/minilm-l6).</summary>
    public required string BaseDirectory { get; init; }
    public required string TrainPath { get; init; }
    public string? DevPath { get; init; }
    public string? TestPath { get; init; }
    public required PeftMethod Method { get; init; }
    public Pooling Pooling { get; init; } = Pooling.Pooler;
    public int MaxLength { get; init; } = 128;
    /// <summary>Documents have "labels" lists: sigmoid per label, binary cross-entropy, thresholds tuned on dev.</summary>
    public bool MultiLabel { get; init; }
    public TrainingOptions Options { get; init; } = new();
    public required string OutputDirectory { get; init; }
    /// <summary>Checkpoints, metrics and the curve while training; defaults to &lt;out&gt;.work.</summary>
    public string? WorkDirectory { get; init; }
    public bool Resume { get; init; }
    public bool Overwrite { get; init; }
    /// <summary>auto (CUDA when TorchSharp reports it), cpu or cuda.</summary>
    public string Device { get; init; } = "auto";
    /// <summary>Intra-op threads for libtorch on CPU; 0 = all cores.</summary>
    public int Threads { get; init; }
}
