namespace PeftOnnx.Hosting.Worker;

/// <summary>What happens to an inbox document once its result is committed.</summary>
public enum InputDisposition
{
    /// <summary>Moved to the processed folder (keeping sub-folders): the inbox holds only work still to do.</summary>
    Move,
    /// <summary>Left in place; the ledger marks it processed (content hash, size, modification time), so rescans skip it.</summary>
    Mark,
}
