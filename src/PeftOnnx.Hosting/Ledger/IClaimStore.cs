namespace PeftOnnx.Hosting.Ledger;

/// <summary>
/// Where the scoring pipeline claims documents and records what became of them: the SQLite ledger (<see cref="SqliteLedger"/>:
/// the worker, across restarts and processes) or claims held for one run (<see cref="RunClaims"/>: `peftonnx score`, `demo`).
/// Implementations are thread-safe.
/// </summary>
public interface IClaimStore
{
    /// <summary>
    /// Claims a readable document for scoring: <see cref="BeginOutcome.Started"/> (attempts + 1), or why not (already done,
    /// being scored under another path that <paramref name="isInFlight"/> says is live, failed max-attempts times).
    /// </summary>
    (BeginOutcome Outcome, LedgerEntry Entry) TryBegin(
        string path, string docId, string contentHash, string modelId, int maxAttempts, Func<string, bool> isInFlight,
        long fileSize = -1, long fileMtime = -1);

    /// <summary>The done or failed claim of an unchanged file (same size and modification time), or null.</summary>
    LedgerEntry? FindSettled(string path, string modelId, long fileSize, long fileMtime);

    /// <summary>Marks claims as being written: a crash from here on is resolved by looking in the outbox.</summary>
    void MarkWriting(IReadOnlyList<long> ids);

    /// <summary>Commits claims whose results are durably in the outbox.</summary>
    void MarkDone(IReadOnlyList<(long Id, string ResultPath)> done);

    /// <summary>Puts claims back to scoring (no result was found for them in the outbox).</summary>
    void ResetToScoring(IReadOnlyList<long> ids);

    /// <summary>Records a scoring or writing failure; true when the claim has used all <paramref name="maxAttempts"/>.</summary>
    bool RecordAttemptFailure(long id, string failure, int maxAttempts);

    /// <summary>
    /// Records a document that cannot be scored (binary, not UTF-8, empty, too large, unreadable, vanished). A returned
    /// status of <see cref="DocumentStatus.Done"/> means its record is already in the outbox (a resumed run).
    /// </summary>
    LedgerEntry RecordRejected(string path, string docId, string? contentHash, string modelId, string reason, long fileSize = -1, long fileMtime = -1);

    /// <summary>Claims in a given status (at startup: writing claims are the ones a crash interrupted).</summary>
    IReadOnlyList<LedgerEntry> WithStatus(DocumentStatus status, string? modelId = null);
}
