using System.Text.Json.Serialization;
using PeftOnnx.Core.Json;

namespace PeftOnnx.Hosting.Outbox;

/// <summary>What a record says of its document (written as "scored", "skipped", "failed").</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<ResultStatus>))]
public enum ResultStatus
{
    /// <summary>Scored: label, score, probabilities and/or embedding are set.</summary>
    Scored,
    /// <summary>Not scorable (binary, not UTF-8, empty, too large, unreadable, vanished); the reason says which.</summary>
    Skipped,
    /// <summary>Scoring failed every attempt; the reason carries the last error.</summary>
    Failed,
}
