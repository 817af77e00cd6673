namespace PeftOnnx.Hosting.Pipeline;

/// <summary>Tuning of the scoring pipeline (bound from the Worker configuration section).</summary>
public sealed record PipelineOptions
{
    /// <summary>Documents per model call.</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>How long a partial batch waits for more documents before it is scored anyway.</summary>
    public TimeSpan BatchWait { get; init; } = TimeSpan.FromMilliseconds(50);
    /// <summary>Threads reading and hashing documents ahead of the model.</summary>
    public int ReadParallelism { get; init; } = 2;
    /// <summary>Batches allowed in flight between stages (bounds memory: about (2 + this) x BatchSize documents).</summary>
    public int BatchesAhead { get; init; } = 2;
    /// <summary>Tries before a document that fails to score or write goes to failed/.</summary>
    public int MaxAttempts { get; init; } = 3;
    /// <summary>Files larger than this are rejected as too large.</summary>
    public long MaxDocumentBytes { get; init; } = 10 * 1024 * 1024;
    /// <summary>Skip files whose size and modification time match a settled ledger row without reading them.</summary>
    public bool SkipUnchangedFiles { get; init; } = true;

    /// <summary>
    /// Drop an input that is gone by the time it is read, with no ledger row and no report (the inbox worker): in an
    /// inbox that is a file this worker moved to processed/ just as a rescan listed it again, or one its user took back.
    /// Elsewhere it is reported as not found.
    /// </summary>
    public bool DropVanished { get; init; }

    /// <summary>
    /// Write a record for skipped and failed documents too (`peftonnx score`: every document has its line). The worker
    /// leaves it off: it sets such inputs aside in failed/ with the reason.
    /// </summary>
    public bool RecordUnscored { get; init; }

    /// <summary>Write embeddings for classified documents too (embedding models always write theirs).</summary>
    public bool IncludeEmbeddings { get; init; }

    public void Validate()
    {
        if (BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, $"BatchSize should be at least 1, got {BatchSize}.");
        if (ReadParallelism < 1)
            throw new ArgumentOutOfRangeException(nameof(ReadParallelism), ReadParallelism, $"ReadParallelism should be at least 1, got {ReadParallelism}.");
        if (BatchesAhead < 1)
            throw new ArgumentOutOfRangeException(nameof(BatchesAhead), BatchesAhead, $"BatchesAhead should be at least 1, got {BatchesAhead}.");
        if (MaxAttempts < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, $"MaxAttempts should be at least 1, got {MaxAttempts}.");
        if (MaxDocumentBytes < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxDocumentBytes), MaxDocumentBytes, $"MaxDocumentBytes should be positive, got {MaxDocumentBytes}.");
    }
}
