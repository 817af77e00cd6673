using PeftOnnx.Hosting.Outbox;

namespace PeftOnnx.Hosting.Pipeline;

/// <summary>What `peftonnx score`, `demo` and `bench-pipeline` ask of <see cref="FolderScoringPipeline"/>.</summary>
public sealed record FolderScoringOptions
{
    /// <summary>Files and folders (walked recursively).</summary>
    public required IReadOnlyList<string> Inputs { get; init; }

    /// <summary>Records the sink already holds (a resumed run, <see cref="ResultFile.Written"/>): not scored or written again.</summary>
    public IReadOnlyCollection<ResultKey> AlreadyWritten { get; init; } = [];

    public PipelineOptions Pipeline { get; init; } = DefaultPipeline;

    /// <summary>One reader keeps records in input order; every document gets a record, skipped and failed ones included.</summary>
    public static PipelineOptions DefaultPipeline { get; } = new() { BatchWait = TimeSpan.Zero, SkipUnchangedFiles = false, ReadParallelism = 1, RecordUnscored = true };
}
