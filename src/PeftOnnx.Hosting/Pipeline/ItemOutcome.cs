namespace PeftOnnx.Hosting.Pipeline;

/// <summary>
/// A work item (one file or queue job) once all its documents are settled: how many ended in each status, and the
/// first problem met. Producers act on this: move the input, park it in failed/, acknowledge the job.
/// </summary>
public sealed record ItemOutcome(WorkItem Item, int Scored, int AlreadyDone, int Duplicate, int Rejected, int Failed, string? FirstProblem)
{
    public int Documents => Scored + AlreadyDone + Duplicate + Rejected + Failed;

    /// <summary>Every document has a committed result (now or from before).</summary>
    public bool IsComplete => Duplicate == 0 && Rejected == 0 && Failed == 0;

    /// <summary>Nothing in the item could be scored (a bad file, or every line bad).</summary>
    public bool IsUnscorable => Scored == 0 && AlreadyDone == 0 && Duplicate == 0;
}
