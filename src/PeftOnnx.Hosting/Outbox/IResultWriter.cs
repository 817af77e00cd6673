namespace PeftOnnx.Hosting.Outbox;

/// <summary>
/// Writes results durably: when <see cref="Write"/> returns, the records survive a crash of the process
/// (fsync'd). Implementations are called from one writer task at a time.
/// </summary>
public interface IResultWriter : IDisposable
{
    /// <summary>Writes the records and returns, for each, where it now lives (stored in the ledger as result_path).</summary>
    IReadOnlyList<string> Write(IReadOnlyList<ResultRecord> records);

    /// <summary>
    /// Which of <paramref name="candidates"/> already have a result in the outbox: after a crash between the write and
    /// the ledger commit, or when a queue job is delivered again. Returns key -> location.
    /// </summary>
    IReadOnlyDictionary<ResultKey, string> FindExisting(IReadOnlyCollection<ResultKey> candidates);
}
