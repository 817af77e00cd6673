using PeftOnnx.Hosting.Outbox;
using PeftOnnx.Hosting.Pipeline;
using PeftOnnx.Runtime.Scoring;

namespace PeftOnnx.Hosting.Worker;

/// <summary>
/// The "Worker" configuration section (appsettings.json, PEFTONNX_Worker__Key environment variables, or the
/// `serve` command line): what to score, where documents come from and where results go.
/// </summary>
public sealed class WorkerOptions
{
    public const string Section = "Worker";

    /// <summary>Bundle folder (model.onnx + vocab + bundle.json, or a pulled base model folder); a side-graph bundle (side.json) is served with its adapters.</summary>
    public string? Model { get; set; }
    /// <summary>Load the bundle even when its files do not match the sha256 its bundle.json records (`serve --skip-verify`).</summary>
    public bool SkipVerify { get; set; }
    /// <summary>Side-graph bundles: the adapter for inbox and queue documents and for HTTP requests that name none (default: the bundle's only adapter at start).</summary>
    public string? Adapter { get; set; }
    /// <summary>Side-graph bundles: the watched folder of .onnx_adapter files (default: the bundle's adapters/).</summary>
    public string? AdaptersDir { get; set; }
    /// <summary>"onnx" (the model), or "hash": the deterministic diagnostic scorer used by tests (no model needed).</summary>
    public string Scorer { get; set; } = "onnx";
    /// <summary>Per-batch sleep of the hash scorer, to imitate inference time in tests.</summary>
    public int HashScorerDelayMs { get; set; }
    /// <summary>auto | cpu | cuda. auto uses CUDA when it loads and falls back to the CPU with a logged reason.</summary>
    public string Device { get; set; } = "auto";
    public int DeviceId { get; set; }
    /// <summary>CUDA memory arena limit in MiB (0: ONNX Runtime's default).</summary>
    public long GpuMemoryLimitMb { get; set; }

    /// <summary>
    /// CPU: let ONNX Runtime's idle threads spin. Off by default in the server, where HTTP handling, file reading and
    /// tokenization run on the same cores as the model.
    /// </summary>
    public bool SpinThreads { get; set; }
    /// <summary>How the windows of a long document combine: Mean (of logits, the default), Max or First.</summary>
    public WindowAggregation Aggregation { get; set; } = WindowAggregation.Mean;
    /// <summary>Tokens shared by consecutive windows of a long document.</summary>
    public int WindowOverlap { get; set; } = 32;
    /// <summary>Labels for zero-shot classification with an embedding model (ignored by classification bundles).</summary>
    public string[]? ZeroShotLabels { get; set; }
    /// <summary>Inbox folders, watched recursively.</summary>
    public string[] Inbox { get; set; } = [];
    public string? Outbox { get; set; }
    public OutboxFormat OutboxFormat { get; set; } = OutboxFormat.Jsonl;
    public InputDisposition Processed { get; set; } = InputDisposition.Move;
    /// <summary>Where processed inputs go (default: &lt;outbox&gt;/processed).</summary>
    public string? ProcessedDir { get; set; }
    /// <summary>Where failed inputs and their reason files go (default: &lt;outbox&gt;/failed).</summary>
    public string? FailedDir { get; set; }
    /// <summary>The SQLite ledger (default: &lt;outbox&gt;/ledger.db).</summary>
    public string? Ledger { get; set; }
    public int BatchSize { get; set; } = 32;
    public int BatchWaitMs { get; set; } = 50;
    public int ReadParallelism { get; set; } = 2;
    public int MaxAttempts { get; set; } = 3;
    public long MaxDocumentBytes { get; set; } = 10 * 1024 * 1024;
    /// <summary>Full rescan period: the safety net for file-system events the watcher drops under load.</summary>
    public int RescanSeconds { get; set; } = 30;
    /// <summary>
    /// A file is scored once its size and modification time have stayed the same, as seen by the watcher, for this long
    /// (a file still being written is not read half-way). Writers that pause longer mid-file should write under a
    /// dot-name and rename it when done.
    /// </summary>
    public int SettleMs { get; set; } = 500;
    /// <summary>Score symbolic links in the inbox whose target is outside it (refused by default: they go to failed/).</summary>
    public bool FollowSymlinks { get; set; }

    public string OutboxPath => Path.GetFullPath(Outbox ?? throw new InvalidOperationException(
        "no outbox: set Worker:Outbox (or pass --outbox <dir>) to the folder that receives results."));

    public string ProcessedPath => Path.GetFullPath(ProcessedDir ?? Path.Combine(OutboxPath, "processed"));

    public string FailedPath => Path.GetFullPath(FailedDir ?? Path.Combine(OutboxPath, "failed"));

    public string LedgerPath => Path.GetFullPath(Ledger ?? Path.Combine(OutboxPath, "ledger.db"));

    /// <summary>Where results go: results.jsonl in the outbox, or the outbox folder itself for one file per document.</summary>
    public string ResultsPath => OutboxFormat == OutboxFormat.JsonFiles ? Path.Combine(OutboxPath, "results") : Path.Combine(OutboxPath, "results.jsonl");

    public PipelineOptions ToPipelineOptions() => new()
    {
        BatchSize = BatchSize,
        BatchWait = TimeSpan.FromMilliseconds(BatchWaitMs),
        ReadParallelism = ReadParallelism,
        MaxAttempts = MaxAttempts,
        MaxDocumentBytes = MaxDocumentBytes,
        SkipUnchangedFiles = Processed == InputDisposition.Mark,
        DropVanished = true,
    };

    /// <summary>Checks the settings that do not depend on the file system; names the key and the value on failure.</summary>
    public void Validate()
    {
        if (Scorer is not ("onnx" or "hash"))
            throw new InvalidOperationException($"Worker:Scorer is '{Scorer}'; use 'onnx' (the model) or 'hash' (the diagnostic scorer).");
        if (Scorer == "onnx" && string.IsNullOrWhiteSpace(Model))
            throw new InvalidOperationException("no model: set Worker:Model (or pass --model <bundle>) to a bundle folder.");
        if (OutboxFormat == OutboxFormat.Csv)
            throw new InvalidOperationException("Worker:OutboxFormat 'Csv' is for `peftonnx score`; the worker writes Jsonl or JsonFiles.");
        if (RescanSeconds < 1)
            throw new InvalidOperationException($"Worker:RescanSeconds should be at least 1, got {RescanSeconds}.");
        if (SettleMs < 0)
            throw new InvalidOperationException($"Worker:SettleMs should not be negative, got {SettleMs}.");
        foreach (var inbox in Inbox)
        {
            var full = Path.GetFullPath(inbox);
            if (Outbox is not null && (IsUnder(OutboxPath, full) || IsUnder(full, OutboxPath)))
                throw new InvalidOperationException($"the inbox {full} and the outbox {OutboxPath} overlap; use separate folders.");
        }
        ToPipelineOptions().Validate();
    }

    private static bool IsUnder(string path, string root) =>
        (path + Path.DirectorySeparatorChar).StartsWith(root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
