using System.Text.Json.Serialization;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.Models;

namespace PeftOnnx.Core.Bundles;

/// <summary>
/// bundle.json: everything the runtime needs to serve a model folder (model.onnx + vocab + this file).
/// Written by <c>peftonnx-export export</c>; a pulled base model folder (model.json only) is served as a
/// feature-extraction bundle through <see cref="FromBaseModel"/>.
/// </summary>
public sealed record BundleManifest
{
    public const string FileName = "bundle.json";
    // Defaulted properties are `set`, not `init`: source-generated JSON sets init-only ones all at once and would replace
    // the default of one missing from the file with null/false/0 (CoreJsonContext).
    public const string CurrentFormat = "peftonnx.bundle/1";

    /// <summary>transformers' problem_type of a multi-label classifier: one sigmoid per label, a document gets every label whose probability reaches its threshold.</summary>
    public const string MultiLabelProblem = "multi_label_classification";

    /// <summary>The one value of <see cref="GraphOptimization"/>: ONNX Runtime's level "extended" (fusions, no layout changes for one machine).</summary>
    public const string ExtendedOptimization = "extended";

    /// <summary>The extension of a model saved in ONNX Runtime's format (flatbuffers: loaded without a parse or a copy of the weights).</summary>
    public const string OrtFormatExtension = ".ort";

    /// <summary>The model file of an edge bundle (`peftonnx-export export --edge`), in ONNX Runtime's format.</summary>
    public const string OrtModelFile = "model.ort";

    /// <summary>ONNX metadata key of the model's position table size, checked against max_length at load (written by the exporter).</summary>
    public const string MaxPositionMetadata = "peftonnx.max_position";

    public string Format { get; set; } = CurrentFormat;
    public required string Name { get; init; }
    public required BundleTask Task { get; init; }
    /// <summary>
    /// The model's file name inside the bundle folder: an ONNX file, or an edge bundle's ONNX Runtime format file
    /// (<see cref="OrtModelFile"/>, <see cref="IsOrtFormat"/>), which the runtime loads from memory without parsing.
    /// </summary>
    public string Model { get; set; } = "model.onnx";
    public required TokenizerSettings Tokenizer { get; init; }
    /// <summary>Class labels in logit order (sequence classification only).</summary>
    public IReadOnlyList<string>? Labels { get; init; }
    /// <summary><see cref="MultiLabelProblem"/>, or null for a single-label classifier (softmax, one label per document).</summary>
    public string? ProblemType { get; init; }
    /// <summary>Multi-label: the decision threshold of each label, in label order (tuned on dev by the trainer).</summary>
    public IReadOnlyList<float>? Thresholds { get; init; }
    /// <summary>"mean", "cls" or "pooler" (tanh(dense(h[:,0])), BertForSequenceClassification).</summary>
    public string Pooling { get; set; } = "mean";
    public bool Normalize { get; set; } = true;
    /// <summary>"fp32", "fp16" or "int8".</summary>
    public string Precision { get; set; } = "fp32";
    /// <summary>Logical output -> ONNX output name: last_hidden_state, pooler_output, logits, probabilities.</summary>
    public IReadOnlyDictionary<string, string> Outputs { get; set; } = new Dictionary<string, string>();
    /// <summary>"merged" (adapter folded into weights), "side" (adapters as graph inputs), "parallel" (several tasks' heads, <see cref="Tasks"/>) or "base".</summary>
    public string Mode { get; set; } = "base";
    /// <summary>
    /// <see cref="ExtendedOptimization"/> when the model file was saved after ONNX Runtime's extended graph
    /// optimizations (`peftonnx-export export --edge`): sessions run it with optimization off instead of optimizing it
    /// again at every start. Null: optimized when loaded.
    /// </summary>
    public string? GraphOptimization { get; init; }
    /// <summary>
    /// A parallel bundle's tasks, in output order: each with its own labels and outputs, all computed by one run
    /// (docs/PARALLEL.md). Null for every other bundle; a parallel bundle has no top-level <see cref="Labels"/>.
    /// </summary>
    public IReadOnlyList<BundleTaskHead>? Tasks { get; init; }
    public required BundleProvenance Provenance { get; init; }
    /// <summary>
    /// File name -> lower-case hex sha256 of every file beside bundle.json (written by the exporter, checked at load
    /// unless verification is skipped, see <see cref="BundleFiles"/>); null in bundles exported before it existed.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Files { get; init; }

    [JsonIgnore] // derived, not a field of bundle.json
    public bool IsMultiLabel => ProblemType == MultiLabelProblem;

    /// <summary>True when <see cref="Model"/> is in ONNX Runtime's own flatbuffer format (an ".ort" file), not ONNX protobuf.</summary>
    [JsonIgnore]
    public bool IsOrtFormat => Model.EndsWith(OrtFormatExtension, StringComparison.OrdinalIgnoreCase);

    /// <summary>Throws when the multi-label fields are inconsistent: an unknown problem type, or thresholds that do not fit the labels.</summary>
    public void ValidateProblem(string where) => ValidateProblem(where, ProblemType, Thresholds, Labels);

    /// <summary>The checks of <see cref="ValidateProblem(string)"/> for one classifier's fields (a bundle's, or one of its <see cref="Tasks"/>).</summary>
    public static void ValidateProblem(string where, string? problemType, IReadOnlyList<float>? thresholds, IReadOnlyList<string>? labels)
    {
        if (problemType is not null && problemType != MultiLabelProblem)
            throw new InvalidDataException($"{where}: problem_type '{problemType}' is not supported; use \"{MultiLabelProblem}\" or leave it out (single-label).");
        if (thresholds is null)
            return;
        if (problemType != MultiLabelProblem)
            throw new InvalidDataException($"{where} has thresholds but no problem_type \"{MultiLabelProblem}\"; thresholds apply to multi-label classifiers only.");
        if (labels is null || thresholds.Count != labels.Count)
            throw new InvalidDataException($"{where} has {thresholds.Count} thresholds for {labels?.Count ?? 0} labels; give one per label.");
        var bad = thresholds.Select((t, i) => (t, i)).FirstOrDefault(x => !(x.t >= 0 && x.t <= 1));
        if (!(bad.t >= 0 && bad.t <= 1))
            throw new InvalidDataException($"{where}: the threshold of label '{labels[bad.i]}' is {bad.t}; thresholds are probabilities in [0, 1].");
    }

    /// <summary>Describes a pulled base model folder as a bundle, so the runtime serves both the same way.</summary>
    public static BundleManifest FromBaseModel(ModelManifest model) => new()
    {
        Name = model.Name,
        Task = BundleTask.FeatureExtraction,
        Tokenizer = model.Tokenizer,
        Pooling = model.Pooling,
        Normalize = model.Normalize,
        Outputs = model.Outputs,
        Provenance = new BundleProvenance
        {
            BaseModel = model.Name,
            BaseSha256 = model.Files.FirstOrDefault(f => f.Name == "model.onnx")?.Sha256,
            Tool = "models pull",
        },
    };
}

[JsonConverter(typeof(SnakeCaseEnumConverter<BundleTask>))]
public enum BundleTask
{
    FeatureExtraction,
    SequenceClassification,
}

/// <summary>How a bundle was made: enough to rebuild it and to know what it contains.</summary>
public sealed record BundleProvenance
{
    public string? BaseModel { get; init; }
    public string? BaseSha256 { get; init; }
    public string? AdapterSha256 { get; init; }
    public string? PeftType { get; init; }
    /// <summary>The adapter_config.json the bundle was made from, verbatim.</summary>
    public System.Text.Json.Nodes.JsonObject? AdapterConfig { get; init; }
    public string? Tool { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
}
