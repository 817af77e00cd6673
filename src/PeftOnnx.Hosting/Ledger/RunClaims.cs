using PeftOnnx.Hosting.Outbox;

namespace PeftOnnx.Hosting.Ledger;

/// <summary>
/// The claim store of one run (`peftonnx score`, `demo`): claims live in memory, one per document id and model, so every
/// document gets its own record (two files with the same text are both scored). A resumed run is seeded with the
/// results its output already holds: those documents count as done and are neither scored nor written again.
/// </summary>
public sealed class RunClaims : IClaimStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string DocId, string ModelId), LedgerEntry> _byDocument = [];
    private readonly Dictionary<long, (string DocId, string ModelId)> _byId = [];
    private readonly HashSet<ResultKey> _written;
    private readonly string _writtenTo;
    private long _nextId;

    /// <param name="written">Results already in the output (skipped and failed ones keyed with an empty hash).</param>
    /// <param name="writtenTo">Where those results are, for the "already scored" reason.</param>
    public RunClaims(IEnumerable<ResultKey>? written = null, string writtenTo = "the output")
    {
        _written = [.. written ?? []];
        _writtenTo = writtenTo;
    }

    public (BeginOutcome Outcome, LedgerEntry Entry) TryBegin(
        string path, string docId, string contentHash, string modelId, int maxAttempts, Func<string, bool> isInFlight,
        long fileSize = -1, long fileMtime = -1)
    {
        lock (_gate)
        {
            if (_written.Contains(new ResultKey(docId, contentHash)))
                return (BeginOutcome.AlreadyDone, Put(path, docId, contentHash, modelId, DocumentStatus.Done, attempts: 0, error: null));
            if (_byDocument.TryGetValue((docId, modelId), out var existing))
            {
                if (existing.Status == DocumentStatus.Done)
                    return (BeginOutcome.AlreadyDone, existing);
                if (existing.Status == DocumentStatus.Failed && existing.Attempts >= maxAttempts)
                    return (BeginOutcome.Exhausted, existing);
            }
            return (BeginOutcome.Started, Put(path, docId, contentHash, modelId, DocumentStatus.Scoring, (existing?.Attempts ?? 0) + 1, existing?.Error));
        }
    }

    /// <summary>A run reads every file it is given: nothing is settled before it starts.</summary>
    public LedgerEntry? FindSettled(string path, string modelId, long fileSize, long fileMtime) => null;

    public void MarkWriting(IReadOnlyList<long> ids) => SetStatus(ids, DocumentStatus.Writing);

    public void MarkDone(IReadOnlyList<(long Id, string ResultPath)> done)
    {
        lock (_gate)
        {
            foreach (var (id, resultPath) in done)
                Update(id, e => e with { Status = DocumentStatus.Done, Error = null, ResultPath = resultPath });
        }
    }

    public void ResetToScoring(IReadOnlyList<long> ids) => SetStatus(ids, DocumentStatus.Scoring);

    public bool RecordAttemptFailure(long id, string failure, int maxAttempts)
    {
        lock (_gate)
        {
            var entry = Update(id, e => e with { Error = failure, Status = e.Attempts >= maxAttempts ? DocumentStatus.Failed : DocumentStatus.Scoring });
            return entry.Status == DocumentStatus.Failed;
        }
    }

    public LedgerEntry RecordRejected(string path, string docId, string? contentHash, string modelId, string reason, long fileSize = -1, long fileMtime = -1)
    {
        lock (_gate)
        {
            return _written.Contains(new ResultKey(docId, ""))
                ? Put(path, docId, contentHash, modelId, DocumentStatus.Done, attempts: 0, error: null)
                : Put(path, docId, contentHash, modelId, DocumentStatus.Failed, attempts: 1, reason);
        }
    }

    public IReadOnlyList<LedgerEntry> WithStatus(DocumentStatus status, string? modelId = null)
    {
        lock (_gate)
            return [.. _byDocument.Values.Where(e => e.Status == status && (modelId is null || e.ModelId == modelId)).OrderBy(e => e.Id)];
    }

    private LedgerEntry Put(string path, string docId, string? contentHash, string modelId, DocumentStatus status, int attempts, string? error)
    {
        var id = _byDocument.TryGetValue((docId, modelId), out var existing) ? existing.Id : ++_nextId;
        var entry = new LedgerEntry(id, path, docId, contentHash, modelId, status, attempts, error,
            status == DocumentStatus.Done ? _writtenTo : null, DateTimeOffset.UtcNow);
        _byDocument[(docId, modelId)] = entry;
        _byId[id] = (docId, modelId);
        return entry;
    }

    private void SetStatus(IReadOnlyList<long> ids, DocumentStatus status)
    {
        lock (_gate)
        {
            foreach (var id in ids)
                Update(id, e => e with { Status = status });
        }
    }

    private LedgerEntry Update(long id, Func<LedgerEntry, LedgerEntry> change)
    {
        var key = _byId.TryGetValue(id, out var k) ? k : throw new KeyNotFoundException($"no claim with id {id} in this run");
        var entry = change(_byDocument[key]) with { UpdatedAt = DateTimeOffset.UtcNow };
        _byDocument[key] = entry;
        return entry;
    }
}
