namespace PeftOnnx.Cli.Commands.Score;

/// <summary>One document's line in `peftonnx score` output: a result ("ok") or why it was skipped.</summary>
internal sealed record ScoreLine(
    string Path,
    string Status,
    string? Label = null,
    float? Score = null,
    IReadOnlyDictionary<string, float>? Probabilities = null,
    int? Chunks = null,
    int? Tokens = null,
    float[]? Embedding = null,
    string? Reason = null);
