namespace PeftOnnx.Hosting.Pipeline;

/// <summary>
/// A document handed to the scoring pipeline: its file, its id (path relative to the watched root, or the queue
/// job's id) and an opaque token the producer gets back with the outcome (e.g. the Redis message id to acknowledge).
/// </summary>
public sealed record WorkItem(string Path, string DocId, object? Token = null);
