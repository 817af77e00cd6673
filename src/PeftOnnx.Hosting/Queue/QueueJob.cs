namespace PeftOnnx.Hosting.Queue;

/// <summary>
/// One job on the stream: the document's id (its path relative to the enqueued folder), its path on storage every
/// worker sees, and the content hash at enqueue time (empty when the file could not be read then).
/// </summary>
public sealed record QueueJob(string DocId, string Path, string ContentHash);

/// <summary>A job as delivered: its stream entry id (to acknowledge) and how many times it was delivered.</summary>
public sealed record QueueDelivery(string MessageId, QueueJob Job, long Deliveries);
