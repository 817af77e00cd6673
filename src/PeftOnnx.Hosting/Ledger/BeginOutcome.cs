namespace PeftOnnx.Hosting.Ledger;

/// <summary>What <see cref="SqliteLedger.TryBegin"/> decided for one document.</summary>
public enum BeginOutcome
{
    /// <summary>Score it: a new row, or a retry of an unfinished one (attempts was incremented).</summary>
    Started,
    /// <summary>The same content was already scored by the same model: nothing to do.</summary>
    AlreadyDone,
    /// <summary>The same content is being scored right now under another path.</summary>
    DuplicateInFlight,
    /// <summary>The same content failed max-attempts times before: not retried.</summary>
    Exhausted,
}
