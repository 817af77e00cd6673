using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using PeftOnnx.Hosting.Ledger;
using PeftOnnx.Hosting.Metrics;
using PeftOnnx.Hosting.Outbox;
using PeftOnnx.Hosting.Worker;
using PeftOnnx.Runtime.Adapters;
using PeftOnnx.Runtime.Documents;
using PeftOnnx.Runtime.Scoring;

namespace PeftOnnx.Hosting.Pipeline;

/// <summary>
/// The one scoring engine: `peftonnx score` (every mode), `demo`, the inbox worker and the queue worker run it.
/// <code>
///   submit ─> [read + hash + claim, N threads; tokenize on the pool] ─bounded─> [batch + score] ─bounded─> [claim writing ─> durable write to the sink ─> claim done] ─> outcome
/// </code>
/// Two seams: the claim store (<see cref="IClaimStore"/>: the SQLite ledger, or <see cref="RunClaims"/> for one run) and
/// the result sink (<see cref="IResultWriter"/>: JSONL, CSV, JSON files, console). With a routed scorer
/// (<see cref="IRoutedTextScorer"/>) each document is scored with the adapter its path routes to, and that adapter is
/// part of its model id, so of its claim key. With <see cref="PipelineOptions.RecordUnscored"/> skipped and failed
/// documents get a record too, and with one reader thread records keep the submission order.
/// Bounded channels keep memory flat and let reading, hashing and tokenizing run on other cores while the model runs.
/// Every document gets one <see cref="WorkOutcome"/> and every submitted item one <see cref="ItemOutcome"/>, reported after
/// the ledger recorded them, unless the run is cancelled before the item was read or while the storage failed (then a
/// rescan or re-delivery brings it back, and the ledger says what is left). Storage errors are retried, never pinned on
/// a document (<see cref="StorageRetry"/>); no exception from a document or a result leaves a stage.
/// </summary>
public sealed class ScoringPipeline
{
    private readonly ITextScorer _scorer;
    private readonly IClaimStore _ledger;
    private readonly IRoutedTextScorer? _routed;
    private readonly IResultWriter _writer;
    private readonly PipelineOptions _options;
    private readonly Action<ItemOutcome> _onItem;
    private readonly Action<WorkOutcome>? _onDocument;
    private readonly DocumentReader _reader;
    private readonly ILogger _logger;
    private readonly HostingMetrics? _metrics;
    private readonly string _source;
    private readonly StorageRetry _storage;
    private readonly Channel<WorkItem> _input;
    private readonly ConcurrentDictionary<string, byte> _inFlight = new(StringComparer.Ordinal);

    public ScoringPipeline(
        ITextScorer scorer, IClaimStore ledger, IResultWriter writer, PipelineOptions options, Action<ItemOutcome> onItem,
        ILogger logger, HostingMetrics? metrics = null, string source = "pipeline", Action<WorkOutcome>? onDocument = null,
        Readiness? readiness = null)
    {
        options.Validate();
        _scorer = scorer;
        _routed = scorer as IRoutedTextScorer;
        _ledger = ledger;
        _writer = writer;
        _options = options;
        _onItem = onItem;
        _onDocument = onDocument;
        _reader = new DocumentReader(new DocumentReaderOptions { MaxBytes = options.MaxDocumentBytes });
        _logger = logger;
        _metrics = metrics;
        _source = source;
        _input = Channel.CreateBounded<WorkItem>(new BoundedChannelOptions(options.BatchSize * options.BatchesAhead) { SingleWriter = false });
        _storage = new StorageRetry(logger, metrics, readiness, source);
        metrics?.TrackQueueDepth(() => _inFlight.Count);
        metrics?.TrackStorageFailing(() => _storage.Failing);
    }

    /// <summary>Documents submitted and not yet reported.</summary>
    public int InFlight => _inFlight.Count;

    /// <summary>True while <paramref name="path"/> is submitted and not yet reported.</summary>
    public bool IsInFlight(string path) => _inFlight.ContainsKey(path);

    /// <summary>
    /// Queues a document (waiting while the pipeline is full). Returns false when the same path is already in flight,
    /// so watcher events and rescans can submit freely.
    /// </summary>
    public async ValueTask<bool> SubmitAsync(WorkItem item, CancellationToken cancellationToken)
    {
        if (!_inFlight.TryAdd(item.Path, 0))
            return false;
        try
        {
            await _input.Writer.WriteAsync(item, cancellationToken);
            return true;
        }
        catch
        {
            _inFlight.TryRemove(item.Path, out _);
            throw;
        }
    }

    /// <summary>No more submissions: <see cref="RunAsync"/> returns once everything submitted is reported.</summary>
    public void Complete() => _input.Writer.TryComplete();

    /// <summary>
    /// Resolves rows a crash left in the writing state: those whose result is in the outbox are committed, the others
    /// go back to scoring (the document is scored again when it is seen). Call once before <see cref="RunAsync"/>; storage
    /// errors are retried until <paramref name="cancellationToken"/> fires.
    /// </summary>
    public (int Committed, int Rescore) Recover(CancellationToken cancellationToken = default) =>
        _storage.Run("recovering the ledger", RecoverOnce, cancellationToken);

    private (int Committed, int Rescore) RecoverOnce()
    {
        var writing = _ledger.WithStatus(DocumentStatus.Writing, _scorer.ModelId);
        if (writing.Count == 0)
            return (0, 0);
        var found = _writer.FindExisting(writing.Select(e => new ResultKey(e.DocId, e.ContentHash!)).ToList());
        var committed = writing.Where(e => found.ContainsKey(new ResultKey(e.DocId, e.ContentHash!)))
            .Select(e => (e.Id, found[new ResultKey(e.DocId, e.ContentHash!)])).ToList();
        var rescore = writing.Where(e => !found.ContainsKey(new ResultKey(e.DocId, e.ContentHash!))).Select(e => e.Id).ToList();
        _ledger.MarkDone(committed);
        _ledger.ResetToScoring(rescore);
        _logger.LogInformation("Ledger recovery: {Committed} interrupted writes were already in the outbox, {Rescore} will be scored again",
            committed.Count, rescore.Count);
        return (committed.Count, rescore.Count);
    }

    /// <summary>
    /// Runs the stages until <see cref="Complete"/> was called and everything is reported, or until
    /// <paramref name="cancellationToken"/> fires: then no new document is claimed, and the batches already claimed are
    /// scored, written and committed before this returns (graceful shutdown).
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var prepared = Channel.CreateBounded<Prepared>(new BoundedChannelOptions(_options.BatchSize * _options.BatchesAhead) { SingleReader = true });
        var scored = Channel.CreateBounded<List<Scored>>(new BoundedChannelOptions(_options.BatchesAhead) { SingleReader = true, SingleWriter = true });
        var read = Task.Run(() => ReadStageAsync(prepared.Writer, cancellationToken), CancellationToken.None);
        var score = Task.Run(() => ScoreStageAsync(prepared.Reader, scored.Writer, cancellationToken), CancellationToken.None);
        var write = Task.Run(() => WriteStageAsync(scored.Reader, cancellationToken), CancellationToken.None);
        await Task.WhenAll(read, score, write);
    }

    private async Task ReadStageAsync(ChannelWriter<Prepared> prepared, CancellationToken cancellationToken)
    {
        try
        {
            await Parallel.ForEachAsync(
                _input.Reader.ReadAllAsync(cancellationToken),
                new ParallelOptions { MaxDegreeOfParallelism = _options.ReadParallelism, CancellationToken = cancellationToken },
                async (item, _) => await PrepareAsync(item, prepared, cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutdown: documents not yet claimed stay untouched in the ledger; drop them so submitters see them free.
            _input.Writer.TryComplete();
            while (_input.Reader.TryRead(out var dropped))
                _inFlight.TryRemove(dropped.Path, out _);
        }
        finally
        {
            prepared.TryComplete();
        }
    }

    /// <summary>Reads an item's documents and claims each in the ledger; claimed ones go on to be scored.</summary>
    private async ValueTask PrepareAsync(WorkItem item, ChannelWriter<Prepared> prepared, CancellationToken cancellationToken)
    {
        var state = new ItemState(item);
        try
        {
            long size = -1, mtime = -1;
            var info = new FileInfo(item.Path);
            if (info.Exists)
            {
                size = info.Length;
                mtime = info.LastWriteTimeUtc.Ticks;
                if (_options.SkipUnchangedFiles
                    && await _storage.RunAsync("looking up a file in the ledger", () => _ledger.FindSettled(item.Path, _scorer.ModelId, size, mtime), cancellationToken) is { } settled)
                {
                    state.Add();
                    Report(state, settled.Status == DocumentStatus.Done
                        ? new WorkOutcome(item, item.Path, item.DocId, WorkStatus.AlreadyDone, $"unchanged since it was scored (result in {settled.ResultPath})", Attempts: settled.Attempts, Existing: settled)
                        : new WorkOutcome(item, item.Path, item.DocId, WorkStatus.Rejected, settled.Error, Attempts: settled.Attempts));
                    return;
                }
            }
            foreach (var document in _reader.Read(item.Path))
            {
                if (document.Vanished && _options.DropVanished)
                {
                    _logger.LogDebug("{DocId} was gone before it could be read; dropped", item.DocId);
                    state.Abandon();
                    continue;
                }
                // One hold per document, dropped by its report: a claim that throws reports too, so no hold leaks.
                state.Add();
                var docId = document.Path.StartsWith(item.Path, StringComparison.Ordinal) ? item.DocId + document.Path[item.Path.Length..] : item.DocId;
                Prepared? p;
                try
                {
                    p = await ClaimAsync(item, state, document, docId, size, mtime, cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    state.Abandon();
                    Release(state);
                    throw;
                }
                catch (Exception e)
                {
                    _logger.LogError(e, "Could not claim {DocPath}", document.Path);
                    Report(state, new WorkOutcome(item, document.Path, docId, WorkStatus.Failed, $"claiming it failed: {e.Message}"));
                    continue;
                }
                if (p is not null)
                    await prepared.WriteAsync(p, CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping while the storage fails: whatever was not claimed is found again at the next start.
            state.Abandon();
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Could not prepare {Path}", item.Path);
            state.Add();
            Report(state, new WorkOutcome(item, item.Path, item.DocId, WorkStatus.Failed, $"reading it failed: {e.Message}"));
        }
        finally
        {
            Release(state);
        }
    }

    private async Task<Prepared?> ClaimAsync(
        WorkItem item, ItemState state, DocumentText document, string docId, long size, long mtime, CancellationToken cancellationToken)
    {
        var adapter = _routed is null ? null : _routed.Router.Route(document.Path) ?? _routed.DefaultAdapter;
        var modelId = ModelIdFor(adapter);
        if (document.IsSkipped)
        {
            var rejected = await _storage.RunAsync("recording a rejected document",
                () => _ledger.RecordRejected(document.Path, docId, null, modelId, document.SkipReason!, size, mtime), cancellationToken);
            if (rejected.Status == DocumentStatus.Done)
            {
                Report(state, new WorkOutcome(item, document.Path, docId, WorkStatus.AlreadyDone, $"already recorded as skipped (in {rejected.ResultPath})", Attempts: rejected.Attempts, Existing: rejected));
                return null;
            }
            _metrics?.RecordSkipped("rejected");
            var skipped = new WorkOutcome(item, document.Path, docId, WorkStatus.Rejected, document.SkipReason, Attempts: rejected.Attempts);
            if (_options.RecordUnscored)
                return new Prepared(item, state, document.Path, docId, rejected, null, "", null, modelId, adapter, skipped);
            Report(state, skipped);
            return null;
        }

        var hash = ContentHash.Of(document.Text!);
        var (outcome, entry) = await _storage.RunAsync("claiming a document", () => _ledger.TryBegin(document.Path, docId, hash, modelId,
            _options.MaxAttempts, other => IsInFlight(FileOf(other)), size, mtime), cancellationToken);
        switch (outcome)
        {
            case BeginOutcome.Started:
                // One reader reads a file's documents in order; tokenizing each on the pool keeps every core ahead of the model.
                var text = document.Text!;
                return new Prepared(item, state, document.Path, docId, entry, hash, text, Task.Run(() => _scorer.Prepare(text)), modelId, adapter);
            case BeginOutcome.AlreadyDone:
                _metrics?.RecordSkipped("already_done");
                Report(state, new WorkOutcome(item, document.Path, docId, WorkStatus.AlreadyDone, entry.Path == document.Path
                    ? $"already scored by {modelId} (result in {entry.ResultPath})"
                    : $"same content as {entry.Path}, already scored by {modelId} (result in {entry.ResultPath})", Attempts: entry.Attempts, Existing: entry));
                return null;
            case BeginOutcome.DuplicateInFlight:
                _metrics?.RecordSkipped("duplicate");
                Report(state, new WorkOutcome(item, document.Path, docId, WorkStatus.Duplicate, $"same content as {entry.Path}, which is being scored now", Attempts: entry.Attempts));
                return null;
            default:
                _metrics?.RecordSkipped("failed");
                Report(state, new WorkOutcome(item, document.Path, docId, WorkStatus.Failed, $"gave up after {entry.Attempts} attempts: {entry.Error}", Attempts: entry.Attempts));
                return null;
        }
    }

    /// <summary>
    /// The model id a document is claimed and recorded under: the scorer's, or with a routed adapter the scorer's id and
    /// the adapter ("bundle+routed/acme"), so one text sent to two adapters is two claims and two records.
    /// </summary>
    private string ModelIdFor(string? adapter) => adapter is null || adapter == _routed?.DefaultAdapter ? _scorer.ModelId : $"{_scorer.ModelId}/{adapter}";

    /// <summary>The file a document path belongs to (documents inside .jsonl/.csv files are path#L&lt;n&gt;).</summary>
    private static string FileOf(string documentPath)
    {
        var hash = documentPath.LastIndexOf('#');
        return hash > 0 && !File.Exists(documentPath) ? documentPath[..hash] : documentPath;
    }

    private async Task ScoreStageAsync(ChannelReader<Prepared> prepared, ChannelWriter<List<Scored>> scored, CancellationToken cancellationToken)
    {
        try
        {
            while (await prepared.WaitToReadAsync(CancellationToken.None))
            {
                var batch = new List<Prepared>(_options.BatchSize);
                while (batch.Count < _options.BatchSize && prepared.TryRead(out var p))
                    batch.Add(p);
                if (batch.Count < _options.BatchSize && _options.BatchWait > TimeSpan.Zero)
                    await FillAsync(prepared, batch);
                if (batch.Count == 0)
                    continue;
                // Mostly done already; a failed one throws in ScoreBatch, which then scores the batch text by text.
                await Task.WhenAll(batch.Where(p => p.Tokens is not null).Select(p => (Task)p.Tokens!)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                var results = ScoreBatch(batch, cancellationToken);
                if (results.Count > 0)
                    await scored.WriteAsync(results, CancellationToken.None);
            }
        }
        finally
        {
            scored.TryComplete();
        }
    }

    /// <summary>Tops a partial batch up with documents that arrive within the batch wait.</summary>
    private async Task FillAsync(ChannelReader<Prepared> prepared, List<Prepared> batch)
    {
        using var wait = new CancellationTokenSource(_options.BatchWait);
        try
        {
            while (batch.Count < _options.BatchSize && await prepared.WaitToReadAsync(wait.Token))
            {
                while (batch.Count < _options.BatchSize && prepared.TryRead(out var p))
                    batch.Add(p);
            }
        }
        catch (OperationCanceledException) when (wait.IsCancellationRequested)
        {
        }
    }

    /// <summary>Scores a batch; documents settled earlier (skipped) pass through in their place, unscored.</summary>
    private List<Scored> ScoreBatch(List<Prepared> batch, CancellationToken cancellationToken)
    {
        var scorable = batch.Where(p => p.Settled is null).ToList();
        if (scorable.Count == 0)
            return batch.Select(p => new Scored(p, null)).ToList();
        _metrics?.RecordBatch(_source, scorable.Count);
        try
        {
            var scores = ScoreTexts(scorable.Select(p => p.Tokens!.GetAwaiter().GetResult()).ToArray(), [.. scorable.Select(p => p.Adapter)]);
            if (scores.Count != scorable.Count)
                throw new InvalidOperationException($"the scorer returned {scores.Count} results for {scorable.Count} texts");
            var next = 0;
            return batch.Select(p => new Scored(p, p.Settled is null ? scores[next++] : null)).ToList();
        }
        catch (Exception e)
        {
            // One bad document must not sink its batch: score the members one by one, each with its own attempts.
            _logger.LogWarning(e, "A batch of {Count} failed to score; scoring its documents one by one", scorable.Count);
            return batch.Select(p => p.Settled is null ? ScoreAlone(p, cancellationToken) : new Scored(p, null)).OfType<Scored>().ToList();
        }
    }

    private IReadOnlyList<TextScore> ScoreTexts(IReadOnlyList<PreparedText> prepared, IReadOnlyList<string?> adapters) =>
        _routed is null ? _scorer.Score(prepared, CancellationToken.None) : _routed.Score(prepared, adapters, CancellationToken.None);

    private Scored? ScoreAlone(Prepared p, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                try
                {
                    // The text, not its tokens: tokenizing may be what failed.
                    var score = _routed is null ? _scorer.Score([p.Text], CancellationToken.None) : _routed.Score([p.Text], [p.Adapter], CancellationToken.None);
                    if (score.Count != 1)
                        throw new InvalidOperationException($"the scorer returned {score.Count} results for 1 text");
                    return new Scored(p, score[0]);
                }
                catch (Exception e)
                {
                    var entry = p.Entry;
                    if (_storage.Run("recording a scoring failure", () => _ledger.RecordAttemptFailure(entry.Id, e.Message, _options.MaxAttempts), cancellationToken))
                    {
                        _metrics?.RecordSkipped("failed");
                        var failed = new WorkOutcome(p.Item, p.DocPath, p.DocId, WorkStatus.Failed, $"scoring failed {p.Entry.Attempts} times: {e.Message}", Attempts: p.Entry.Attempts);
                        if (_options.RecordUnscored)
                            return new Scored(p with { Settled = failed }, null);
                        Report(p.State, failed);
                        return null;
                    }
                    var (_, next) = _storage.Run("claiming a document", () => _ledger.TryBegin(p.DocPath, p.DocId, p.Hash!, p.ModelId, _options.MaxAttempts, _ => false), cancellationToken);
                    p = p with { Entry = next };
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Abandon(p.State);
            return null;
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Could not record the scoring failure of {DocPath}", p.DocPath);
            Report(p.State, new WorkOutcome(p.Item, p.DocPath, p.DocId, WorkStatus.Failed, $"scoring failed: {e.Message}", Attempts: p.Entry.Attempts));
            return null;
        }
    }

    private async Task WriteStageAsync(ChannelReader<List<Scored>> scored, CancellationToken cancellationToken)
    {
        await foreach (var batch in scored.ReadAllAsync(CancellationToken.None))
        {
            try
            {
                await WriteBatchAsync(batch, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopping while the storage fails: the rows stay scoring or writing, and the next start settles them
                // (Recover looks in the outbox for writing rows; scoring rows are scored again when seen).
                _logger.LogWarning("Stopping with {Count} scored results not yet written; the next start finishes them", batch.Count);
                foreach (var s in batch)
                    Abandon(s.Document.State);
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Writing a batch of {Count} records failed", batch.Count);
                foreach (var s in batch)
                    Report(s.Document.State, new WorkOutcome(s.Document.Item, s.Document.DocPath, s.Document.DocId, WorkStatus.Failed, $"writing the result failed: {e.Message}", Attempts: s.Document.Entry.Attempts));
            }
        }
    }

    /// <summary>
    /// writing (fsync'd) -> result written and fsync'd -> done (fsync'd). Each step is retried on its own while the
    /// storage fails, so a result that was written is never written again because its commit failed.
    /// </summary>
    private async Task WriteBatchAsync(List<Scored> batch, CancellationToken cancellationToken)
    {
        var records = batch.Select(s => ToRecord(s.Document, s.Score)).ToList();
        var scored = batch.Where(s => s.Score is not null).ToList();
        var ids = scored.Select(s => s.Document.Entry.Id).ToList();
        await _storage.RunAsync("marking results as being written", () => _ledger.MarkWriting(ids), cancellationToken);
        IReadOnlyList<string> locations;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                locations = await _storage.RunAsync("writing results", () => _writer.Write(records), cancellationToken);
                break;
            }
            catch (Exception e) when (e is not OperationCanceledException && attempt < _options.MaxAttempts)
            {
                _logger.LogWarning(e, "Writing {Count} results failed (attempt {Attempt} of {Max}); retrying", records.Count, attempt, _options.MaxAttempts);
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), CancellationToken.None);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogError(e, "Writing {Count} results failed {Max} times", records.Count, attempt);
                // Recorded first, reported after: a report is final, so nothing is reported until every row says failed.
                foreach (var s in scored)
                {
                    await _storage.RunAsync("recording a write failure",
                        () => _ledger.RecordAttemptFailure(s.Document.Entry.Id, $"writing the result failed: {e.Message}", maxAttempts: 0), cancellationToken);
                }
                foreach (var s in batch)
                    Report(s.Document.State, new WorkOutcome(s.Document.Item, s.Document.DocPath, s.Document.DocId, WorkStatus.Failed, $"writing the result failed {attempt} times: {e.Message}", Attempts: s.Document.Entry.Attempts));
                return;
            }
        }
        await _storage.RunAsync("committing results",
            () => _ledger.MarkDone([.. batch.Select((s, i) => (s, i)).Where(x => x.s.Score is not null).Select(x => (x.s.Document.Entry.Id, locations[x.i]))]), cancellationToken);
        _metrics?.RecordScored(_source, scored.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            var d = batch[i].Document;
            if (d.Settled is not null)
            {
                Report(d.State, d.Settled);
                continue;
            }
            Report(d.State, new WorkOutcome(d.Item, d.DocPath, d.DocId, WorkStatus.Scored, Result: records[i], Attempts: d.Entry.Attempts));
            Release(d.State);
        }
    }

    private ResultRecord ToRecord(Prepared p, TextScore? score)
    {
        if (score is null)
        {
            return new ResultRecord
            {
                DocId = p.DocId,
                Path = p.DocPath,
                ContentHash = p.Hash,
                ModelId = p.ModelId,
                Status = p.Settled?.Status == WorkStatus.Rejected ? ResultStatus.Skipped : ResultStatus.Failed,
                Reason = p.Settled?.Reason,
                ScoredAt = DateTimeOffset.UtcNow,
            };
        }
        var labels = _scorer.Labels;
        return new ResultRecord
        {
            DocId = p.DocId,
            Path = p.DocPath,
            ContentHash = p.Hash,
            ModelId = p.ModelId,
            Label = score.Label,
            Score = score.Label is null ? null : score.Score,
            Labels = labels is null ? null : LabelScore.Of(score, labels),
            Probabilities = labels is not null && score.Probabilities is { } probs
                ? labels.Select((label, i) => (label, probs[i])).ToDictionary(x => x.label, x => x.Item2)
                : null,
            Tasks = TaskResult.AllOf(score, _scorer.Tasks),
            Embedding = score.Label is null || _options.IncludeEmbeddings ? score.Embedding : null,
            Chunks = score.Chunks,
            Tokens = score.Tokens,
            ScoredAt = DateTimeOffset.UtcNow,
        };
    }

    /// <summary>Reports one document's outcome (documents that were scored are released by the write stage).</summary>
    private void Report(ItemState state, WorkOutcome outcome)
    {
        state.Record(outcome.Status, outcome.Reason);
        try
        {
            _onDocument?.Invoke(outcome);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Handling the outcome {Status} of {Path} failed", outcome.Status, outcome.DocPath);
        }
        if (outcome.Status != WorkStatus.Scored)
            Release(state);
    }

    /// <summary>Gives up one document of an item because the run stops: the item is not reported, only freed.</summary>
    private void Abandon(ItemState state)
    {
        state.Abandon();
        Release(state);
    }

    /// <summary>
    /// Drops one hold on the item; the last one reports the item (unless it was abandoned) and frees its path for new
    /// submissions.
    /// </summary>
    private void Release(ItemState state)
    {
        if (!state.Release())
            return;
        try
        {
            if (!state.IsAbandoned)
                _onItem(state.ToOutcome());
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Settling {Path} failed", state.Item.Path);
        }
        finally
        {
            _inFlight.TryRemove(state.Item.Path, out _);
        }
    }

    /// <summary>
    /// A claimed document; <see cref="Tokens"/> is its tokenization, running or done. <see cref="Settled"/>: a document
    /// that will not be scored (skipped, or failed every attempt) and only goes on to get its record written.
    /// </summary>
    private sealed record Prepared(
        WorkItem Item, ItemState State, string DocPath, string DocId, LedgerEntry Entry, string? Hash, string Text, Task<PreparedText>? Tokens,
        string ModelId, string? Adapter, WorkOutcome? Settled = null);

    /// <summary>Counts an item's documents in flight: one hold while reading, one per claimed document.</summary>
    private sealed class ItemState(WorkItem item)
    {
        private readonly int[] _counts = new int[5];
        private int _holds = 1;
        private string? _firstProblem;
        private volatile bool _abandoned;

        public WorkItem Item => item;

        /// <summary>Part of the item was left for the next start: the producer must not settle it.</summary>
        public bool IsAbandoned => _abandoned;

        public void Abandon() => _abandoned = true;

        public void Add() => Interlocked.Increment(ref _holds);

        public bool Release() => Interlocked.Decrement(ref _holds) == 0;

        public void Record(WorkStatus status, string? reason)
        {
            Interlocked.Increment(ref _counts[(int)status]);
            if (status is WorkStatus.Rejected or WorkStatus.Failed)
                Interlocked.CompareExchange(ref _firstProblem, reason ?? status.ToString(), null);
        }

        public ItemOutcome ToOutcome() => new(item,
            Volatile.Read(ref _counts[(int)WorkStatus.Scored]), Volatile.Read(ref _counts[(int)WorkStatus.AlreadyDone]),
            Volatile.Read(ref _counts[(int)WorkStatus.Duplicate]), Volatile.Read(ref _counts[(int)WorkStatus.Rejected]),
            Volatile.Read(ref _counts[(int)WorkStatus.Failed]), Volatile.Read(ref _firstProblem));
    }

    /// <summary>A document and its score (null: settled unscored, see <see cref="Prepared.Settled"/>).</summary>
    private sealed record Scored(Prepared Document, TextScore? Score);
}
