using System.Text.Json.Serialization;

namespace PeftOnnx.Hosting.Outbox;

/// <summary>
/// One scored document as written to the outbox. <see cref="DocId"/> (the path relative to the watched root, or
/// the queue job's id) and <see cref="ContentHash"/> make the idempotency key; <see cref="Path"/> is the source
/// document's path when it was scored.
/// </summary>
public sealed record ResultRecord
{
    public required string DocId { get; init; }
    public required string Path { get; init; }
    public required string ContentHash { get; init; }
    public required string ModelId { get; init; }
    public string? Label { get; init; }
    public float? Score { get; init; }
    /// <summary>Label -> probability, in the model's label order.</summary>
    public IReadOnlyDictionary<string, float>? Probabilities { get; init; }
    public float[]? Embedding { get; init; }
    public int Chunks { get; init; }
    public int Tokens { get; init; }
    public DateTimeOffset ScoredAt { get; init; }

    [JsonIgnore]
    public ResultKey Key => new(DocId, ContentHash);
}

/// <summary>Identifies a result: the same document id with the same content is written once.</summary>
public readonly record struct ResultKey(string DocId, string ContentHash);
