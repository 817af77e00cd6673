namespace PeftOnnx.Core.Bundles;

/// <summary>
/// One task of a parallel bundle (bundle.json "tasks"): its name, the labels of its classifier, and the ONNX outputs
/// that carry its scores. Every task reads the same inputs; one run computes all of them (docs/PARALLEL.md).
/// </summary>
public sealed record BundleTaskHead
{
    public required string Name { get; init; }
    /// <summary>Class labels in logit order.</summary>
    public required IReadOnlyList<string> Labels { get; init; }
    /// <summary>As <see cref="BundleManifest.ProblemType"/>: null (single-label) or multi_label_classification.</summary>
    public string? ProblemType { get; init; }
    /// <summary>Multi-label: the decision threshold of each label, in label order.</summary>
    public IReadOnlyList<float>? Thresholds { get; init; }
    /// <summary>Logical output -> ONNX output name (logits, probabilities).</summary>
    public IReadOnlyDictionary<string, string> Outputs { get; set; } = new Dictionary<string, string>();
    /// <summary>sha256 of the adapter weights this task was exported from.</summary>
    public string? AdapterSha256 { get; init; }
    public string? PeftType { get; init; }

    public bool IsMultiLabel => ProblemType == BundleManifest.MultiLabelProblem;

    /// <summary>Throws naming the task when its name, labels or multi-label fields are unusable.</summary>
    public void Validate(string where)
    {
        if (!IsValidName(Name))
            throw new InvalidDataException($"{where}: task name \"{Name}\" is not usable; task names are 1-64 characters of a-z, 0-9, '-' and '_'.");
        if (Labels is not { Count: > 0 })
            throw new InvalidDataException($"{where}: task \"{Name}\" has no labels; every task of a parallel bundle is a classifier.");
        BundleManifest.ValidateProblem($"{where} (task \"{Name}\")", ProblemType, Thresholds, Labels);
    }

    /// <summary>Task names become ONNX output prefixes and JSON/CSV keys: lower-case letters, digits, '-' and '_'.</summary>
    public static bool IsValidName(string? name) =>
        name is { Length: > 0 and <= 64 } && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_');
}
