using PeftOnnx.Hosting.Ledger;
using PeftOnnx.Hosting.Outbox;

namespace PeftOnnx.Hosting.Pipeline;

/// <summary>
/// What happened to one document. A file usually holds one document (<see cref="DocPath"/> = the file); .jsonl and
/// .csv files hold one per line or row (path#L&lt;n&gt;). Reported after the ledger recorded it.
/// <see cref="Existing"/>: for <see cref="WorkStatus.AlreadyDone"/>, the ledger row of the earlier scoring.
/// </summary>
public sealed record WorkOutcome(
    WorkItem Item, string DocPath, string DocId, WorkStatus Status, string? Reason = null, ResultRecord? Result = null,
    int Attempts = 0, LedgerEntry? Existing = null);

public enum WorkStatus
{
    /// <summary>Scored; the result is durably in the outbox and committed in the ledger.</summary>
    Scored,
    /// <summary>The same content was already scored by this model (a restart, a re-delivery, a resumed run).</summary>
    AlreadyDone,
    /// <summary>The same content is being scored right now under another path.</summary>
    Duplicate,
    /// <summary>Not scorable: binary, not UTF-8, empty, too large, unreadable, vanished. Reason says which.</summary>
    Rejected,
    /// <summary>Scoring or writing failed max-attempts times.</summary>
    Failed,
}
