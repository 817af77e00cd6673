using PeftOnnx.Hosting.Outbox;

namespace PeftOnnx.Hosting.Pipeline;

/// <summary>What `peftonnx score` asks of <see cref="FolderScoringPipeline"/>.</summary>
public sealed record FolderScoringOptions
{
    /// <summary>Files and folders (walked recursively).</summary>
    public required IReadOnlyList<string> Inputs { get; init; }
    /// <summary>Results file (JSONL or CSV).</summary>
    public required string Output { get; init; }
    public OutboxFormat Format { get; init; } = OutboxFormat.Jsonl;
    /// <summary>Keep the ledger and the output of an earlier run and score only what it did not finish.</summary>
    public bool Resume { get; init; }
    /// <summary>The ledger (default: the output path + ".ledger.db").</summary>
    public string? Ledger { get; init; }
    public PipelineOptions Pipeline { get; init; } = new() { BatchWait = TimeSpan.Zero, SkipUnchangedFiles = false };

    public string LedgerPath => Path.GetFullPath(Ledger ?? Output + ".ledger.db");
}
