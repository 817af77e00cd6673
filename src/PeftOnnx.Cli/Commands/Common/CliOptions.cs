using System.CommandLine;
using PeftOnnx.Runtime.Scoring;
using PeftOnnx.Runtime.Sessions;

namespace PeftOnnx.Cli.Commands.Common;

/// <summary>Options several verbs share, declared once. Each call returns a new instance for one command.</summary>
internal static class CliOptions
{
    public static Option<string> Model(bool required = true) => new("--model", "-m")
    {
        Description = "Model folder (a bundle with bundle.json, or a pulled base model such as models/minilm-l6) or a base model name (minilm-l6).",
        Required = required,
    };

    public static Option<bool> SkipVerify() => new("--skip-verify")
    {
        Description = "Run a bundle whose files do not match the sha256 its bundle.json records (changed after export); off by default.",
    };

    public static Option<DeviceKind> Device() => new("--device")
    {
        Description = "Where to run: auto (CUDA if available, else CPU), cpu or cuda.",
        HelpName = "auto|cpu|cuda",
        DefaultValueFactory = _ => DeviceKind.Auto,
    };

    public static Option<int?> Threads() => new("--threads")
    {
        Description = "CPU intra-op threads (default: one per physical core).",
    };

    public static Option<string?> ModelsDir() => new("--models-dir")
    {
        Description = $"The models/ folder with one model.json per base model (default: ${PeftOnnx.Models.ModelCatalog.ModelsDirVariable}, else models/ in the repository).",
    };

    public static Option<FileInfo?> Output() => new("--output", "-o")
    {
        Description = "Output file: the results (written atomically) instead of stdout.",
    };

    public static Option<string[]> Text() => new("--text", "-t")
    {
        Description = "Texts to process: --text T1 T2 ... or --text T1 --text T2.",
        AllowMultipleArgumentsPerToken = true,
    };

    public static Option<FileInfo?> Input() => new("--input", "-i")
    {
        Description = "JSON lines file; each line is an object with a \"text\" field.",
    };

    public static Option<int> BatchSize() => new("--batch-size")
    {
        Description = "Sequences per ONNX Runtime call (sorted by length, padded to the longest in the batch).",
        DefaultValueFactory = _ => 32,
    };

    public static Option<int?> MaxLength() => new("--max-length")
    {
        Description = "Tokens per window including [CLS] and [SEP] (default: the model's max length); longer texts are split into windows.",
    };

    public static Option<WindowAggregation> Aggregate() => new("--aggregate")
    {
        Description = "How the windows of a long document combine: mean, max or first.",
        HelpName = "mean|max|first",
        DefaultValueFactory = _ => WindowAggregation.Mean,
    };

    public static Option<string?> Labels() => new("--labels")
    {
        Description = "Comma-separated labels for zero-shot classification with a base (embedding) model, e.g. games,sound,science.",
    };

    public static SessionSettings SessionSettings(ParseResult result, Option<DeviceKind> device, Option<int?> threads)
    {
        var intraOp = result.GetValue(threads);
        if (intraOp is < 1)
            throw new UsageException($"--threads must be at least 1, got {intraOp}.");
        return new SessionSettings { Device = result.GetValue(device), IntraOpThreads = intraOp };
    }

    /// <summary>Splits --labels "a, b,c" into trimmed labels; null when the option was not given.</summary>
    public static IReadOnlyList<string>? ParseLabels(string? value)
    {
        if (value is null)
            return null;
        var labels = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (labels.Length < 2)
            throw new UsageException($"--labels needs at least two comma-separated labels, got '{value}'.");
        var duplicate = labels.GroupBy(l => l).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new UsageException($"--labels lists '{duplicate.Key}' more than once.");
        return labels;
    }

    public static void RequireBatchSize(int batchSize)
    {
        if (batchSize < 1)
            throw new UsageException($"--batch-size must be at least 1, got {batchSize}.");
    }
}
