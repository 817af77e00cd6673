namespace PeftOnnx.Runtime.Documents;

public sealed record DocumentReaderOptions
{
    /// <summary>Files larger than this are skipped, not read (default 10 MB).</summary>
    public long MaxBytes { get; init; } = 10 * 1024 * 1024;

    /// <summary>Field holding the text in .json/.jsonl objects and the column holding it in .csv files.</summary>
    public string TextField { get; init; } = "text";
}
