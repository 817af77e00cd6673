using PeftOnnx.Training.TrainingLoop;

namespace PeftOnnx.Training.Output;

/// <summary>
/// training.json, written next to the adapter: what was trained on what, the label order of the classifier
/// (class i = labels[i]), and what it achieved. PEFT ignores the file; PeftOnnx's exporter reads the labels.
/// </summary>
public sealed record TrainingReport
{
    public const string FileName = "training.json";

    /// <summary>transformers' config.json problem_type for a multi-label classifier (one sigmoid per label).</summary>
    public const string MultiLabelProblem = PeftOnnx.Core.Bundles.BundleManifest.MultiLabelProblem;

    public required string BaseModel { get; init; }
    public string? BaseModelSha256 { get; init; }

    /// <summary>What adapter_config.json records as base_model_name_or_path (the Hub id, else the manifest name), as PEFT does.</summary>
    public string? BaseModelNameOrPath { get; init; }
    public required string Method { get; init; }
    public required IReadOnlyList<string> Labels { get; init; }

    /// <summary><see cref="MultiLabelProblem"/> for a multi-label classifier; null for single-label (softmax).</summary>
    public string? ProblemType { get; init; }

    /// <summary>Multi-label: per-label decision thresholds in label order, tuned on dev (a label is chosen when its probability reaches its threshold).</summary>
    public IReadOnlyList<float>? Thresholds { get; init; }
    public required string Pooling { get; init; }
    public int MaxLength { get; init; }
    public required TrainingOptions Options { get; init; }
    public long TrainableParameters { get; init; }
    public long TotalParameters { get; init; }
    public double TrainablePercent { get; init; }
    public int TrainExamples { get; init; }
    public int DevExamples { get; init; }
    public bool DevSplitFromTrain { get; init; }
    public int BestEpoch { get; init; }
    public int BestStep { get; init; }
    /// <summary>Accuracy; subset accuracy (predicted label set = gold set) for multi-label.</summary>
    public double DevAccuracy { get; init; }
    public double DevMacroF1 { get; init; }
    /// <summary>Multi-label only: micro-F1 over all label decisions, with the tuned thresholds.</summary>
    public double? DevMicroF1 { get; init; }
    public double? TestAccuracy { get; init; }
    public double? TestMacroF1 { get; init; }
    /// <summary>Multi-label only, like <see cref="DevMicroF1"/>.</summary>
    public double? TestMicroF1 { get; init; }
    public int? TestExamples { get; init; }
    public int EpochsRun { get; init; }
    public bool StoppedEarly { get; init; }
    public double WallSeconds { get; init; }
    public double TrainTokensPerSecond { get; init; }
    public long PeakMemoryBytes { get; init; }
    public required string Device { get; init; }
    public int Threads { get; init; }
}
