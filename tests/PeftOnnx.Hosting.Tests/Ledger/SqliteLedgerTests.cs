using PeftOnnx.Hosting.Ledger;
using PeftOnnx.Hosting.Tests.Support;

namespace PeftOnnx.Hosting.Tests.Ledger;

public sealed class SqliteLedgerTests : IDisposable
{
    private readonly TempFolder _temp = new("ledger");
    private readonly SqliteLedger _ledger;

    public SqliteLedgerTests()
    {
        _ledger = SqliteLedger.Open(_temp.Combine("ledger.db"));
    }

    [Fact]
    public void Same_content_and_model_is_scored_once_whatever_the_path()
    {
        var (first, entry) = _ledger.TryBegin("/in/a.txt", "a.txt", "hash1", "model-x", 3, _ => false);
        Assert.Equal(BeginOutcome.Started, first);
        _ledger.MarkWriting([entry.Id]);
        _ledger.MarkDone([(entry.Id, "/out/results.jsonl")]);

        Assert.Equal(BeginOutcome.AlreadyDone, _ledger.TryBegin("/in/a.txt", "a.txt", "hash1", "model-x", 3, _ => false).Outcome);
        var (copy, existing) = _ledger.TryBegin("/in/copy-of-a.txt", "copy-of-a.txt", "hash1", "model-x", 3, _ => false);
        Assert.Equal(BeginOutcome.AlreadyDone, copy);
        Assert.Equal("/in/a.txt", existing.Path);
        Assert.Equal("/out/results.jsonl", existing.ResultPath);
        // Another model, or changed content, is new work.
        Assert.Equal(BeginOutcome.Started, _ledger.TryBegin("/in/a.txt", "a.txt", "hash1", "model-y", 3, _ => false).Outcome);
        Assert.Equal(BeginOutcome.Started, _ledger.TryBegin("/in/a.txt", "a.txt", "hash2", "model-x", 3, _ => false).Outcome);
        Assert.Equal(3, _ledger.All().Count);
    }

    [Fact]
    public void A_twin_being_scored_now_is_a_duplicate_but_a_crashed_claim_is_taken_over()
    {
        var (_, entry) = _ledger.TryBegin("/in/a.txt", "a.txt", "h", "m", 3, _ => false);
        Assert.Equal(BeginOutcome.DuplicateInFlight, _ledger.TryBegin("/in/b.txt", "b.txt", "h", "m", 3, path => path == "/in/a.txt").Outcome);
        // After a restart nothing is in flight: the row left in scoring is claimed again, attempts counted.
        var (outcome, takenOver) = _ledger.TryBegin("/in/b.txt", "b.txt", "h", "m", 3, _ => false);
        Assert.Equal(BeginOutcome.Started, outcome);
        Assert.Equal(entry.Id, takenOver.Id);
        Assert.Equal("/in/b.txt", takenOver.Path);
        Assert.Equal(2, takenOver.Attempts);
    }

    [Fact]
    public void Failures_count_attempts_until_the_document_is_given_up()
    {
        var (_, entry) = _ledger.TryBegin("/in/a.txt", "a.txt", "h", "m", maxAttempts: 2, _ => false);
        Assert.False(_ledger.RecordAttemptFailure(entry.Id, "boom 1", maxAttempts: 2));
        var (_, retry) = _ledger.TryBegin("/in/a.txt", "a.txt", "h", "m", maxAttempts: 2, _ => false);
        Assert.Equal(2, retry.Attempts);
        Assert.True(_ledger.RecordAttemptFailure(entry.Id, "boom 2", maxAttempts: 2));
        var (outcome, failed) = _ledger.TryBegin("/in/a.txt", "a.txt", "h", "m", maxAttempts: 2, _ => false);
        Assert.Equal(BeginOutcome.Exhausted, outcome);
        Assert.Equal("boom 2", failed.Error);
        Assert.Equal(DocumentStatus.Failed, failed.Status);
    }

    [Fact]
    public void Rejected_files_are_recorded_by_path_with_their_reason()
    {
        _ledger.RecordRejected("/in/x.bin", "x.bin", null, "m", "binary (NUL byte at offset 3)");
        var again = _ledger.RecordRejected("/in/x.bin", "x.bin", null, "m", "binary (NUL byte at offset 3)");
        _ledger.RecordRejected("/in/y.bin", "y.bin", null, "m", "empty file");
        Assert.Equal(2, again.Attempts);
        Assert.Equal(2, _ledger.All().Count);
        Assert.Equal(2, _ledger.CountByStatus()[DocumentStatus.Failed]);
    }

    [Fact]
    public void Rows_survive_reopening_and_writing_rows_are_listed_for_recovery()
    {
        var (_, entry) = _ledger.TryBegin("/in/a.txt", "a.txt", "h", "m", 3, _ => false);
        _ledger.MarkWriting([entry.Id]);
        _ledger.Dispose();
        using var reopened = SqliteLedger.Open(_temp.Combine("ledger.db"));
        var writing = Assert.Single(reopened.WithStatus(DocumentStatus.Writing, "m"));
        Assert.Equal("a.txt", writing.DocId);
        reopened.ResetToScoring([writing.Id]);
        Assert.Empty(reopened.WithStatus(DocumentStatus.Writing));
    }

    [Fact]
    public void Settled_files_are_found_by_size_and_modification_time()
    {
        var (_, entry) = _ledger.TryBegin("/in/a.txt", "a.txt", "h", "m", 3, _ => false, fileSize: 10, fileMtime: 1234);
        Assert.Null(_ledger.FindSettled("/in/a.txt", "m", 10, 1234));
        _ledger.MarkDone([(entry.Id, "/out/r.jsonl")]);
        Assert.NotNull(_ledger.FindSettled("/in/a.txt", "m", 10, 1234));
        Assert.Null(_ledger.FindSettled("/in/a.txt", "m", 11, 1234));
    }

    public void Dispose()
    {
        _ledger.Dispose();
        _temp.Dispose();
    }
}
