namespace PeftOnnx.Hosting.Ledger;

/// <summary>One row of the ledger's documents table.</summary>
public sealed record LedgerEntry(
    long Id,
    string Path,
    string DocId,
    string? ContentHash,
    string ModelId,
    DocumentStatus Status,
    int Attempts,
    string? Error,
    string? ResultPath,
    DateTimeOffset UpdatedAt);
