namespace PeftOnnx.Runtime.Documents;

/// <summary>
/// The outcome of reading one document file: its text, or why it was skipped
/// (binary, not UTF-8, empty, too large, unreadable, vanished). Never throws for a bad file.
/// </summary>
public sealed record DocumentText(string Path, string? Text, string? SkipReason)
{
    public bool IsSkipped => SkipReason is not null;

    /// <summary>Skipped because the file was gone (deleted or moved) by the time it was read.</summary>
    public bool Vanished { get; init; }

    public static DocumentText Ok(string path, string text) => new(path, text, null);

    public static DocumentText Skipped(string path, string reason) => new(path, null, reason);

    public static DocumentText Gone(string path, string reason) => new(path, null, reason) { Vanished = true };
}
