namespace PeftOnnx.Hosting.Ledger;

/// <summary>Where a document stands in the ledger. Stored as lower-case text so the database reads plainly.</summary>
public enum DocumentStatus
{
    /// <summary>Accepted and being scored (attempts counts the tries).</summary>
    Scoring,
    /// <summary>Scored; the result is being written. A restart that finds this status checks the outbox.</summary>
    Writing,
    /// <summary>The result is durably in the outbox at result_path.</summary>
    Done,
    /// <summary>Given up: unreadable or bad content, or scoring failed max-attempts times; error says why.</summary>
    Failed,
}
