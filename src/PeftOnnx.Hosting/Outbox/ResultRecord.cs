using System.Text.Json.Serialization;

namespace PeftOnnx.Hosting.Outbox;

/// <summary>
/// One document's record, the same in every sink (JSONL, CSV, JSON files, console) and every mode (`score`, `--resume`,
/// `demo`, the inbox and queue workers). <see cref="DocId"/> (the path relative to the scored root, or the queue job's
/// id) and <see cref="ContentHash"/> make the idempotency key; <see cref="Path"/> is the source document's path when it
/// was read. A skipped document (not scorable) has no hash when its text could not be read, and no score.
/// </summary>
public sealed record ResultRecord
{
    // Defaulted properties are `set`, not `init`: source-generated JSON sets init-only ones all at once and would replace
    // the default of one missing from the file with null/false/0 (CoreJsonContext).
    public required string DocId { get; init; }
    public required string Path { get; init; }
    public string? ContentHash { get; init; }
    public required string ModelId { get; init; }
    public ResultStatus Status { get; set; } = ResultStatus.Scored;
    /// <summary>Why a document was skipped or failed.</summary>
    public string? Reason { get; init; }
    public string? Label { get; init; }
    public float? Score { get; init; }
    /// <summary>Multi-label: the labels at or above their thresholds, most probable first (maybe none); null for other models.</summary>
    public IReadOnlyList<LabelScore>? Labels { get; init; }
    /// <summary>Label -> probability, in the model's label order (multi-label: each label's own sigmoid).</summary>
    public IReadOnlyDictionary<string, float>? Probabilities { get; init; }
    /// <summary>A parallel bundle: task name -> that task's result, all from one run; the fields above are then unset.</summary>
    public IReadOnlyDictionary<string, TaskResult>? Tasks { get; init; }
    public float[]? Embedding { get; init; }
    public int Chunks { get; init; }
    public int Tokens { get; init; }
    public DateTimeOffset ScoredAt { get; init; }

    [JsonIgnore]
    public ResultKey Key => new(DocId, ContentHash ?? "");
}

/// <summary>Identifies a result: the same document id with the same content is written once.</summary>
public readonly record struct ResultKey(string DocId, string ContentHash);
