namespace PeftOnnx.Hosting.Outbox;

/// <summary>How results are laid out in the outbox.</summary>
public enum OutboxFormat
{
    /// <summary>One results.jsonl, appended and fsync'd per batch.</summary>
    Jsonl,
    /// <summary>One &lt;doc id&gt;.&lt;hash&gt;.json per document (temp file + rename): idempotent across processes and machines.</summary>
    JsonFiles,
    /// <summary>One CSV file with a header (folder scoring only).</summary>
    Csv,
}
