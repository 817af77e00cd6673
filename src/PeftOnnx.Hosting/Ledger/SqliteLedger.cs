using System.Globalization;
using Microsoft.Data.Sqlite;

namespace PeftOnnx.Hosting.Ledger;

/// <summary>
/// The embedded job ledger: one SQLite file (WAL, synchronous=FULL) with a documents table whose
/// (content_hash, model_id) pair is unique, so the same content is scored once per model whatever its path.
/// Rows for files that could not be read carry a NULL hash and are keyed by path. Thread-safe (one connection,
/// one lock: every operation is a short statement or a small transaction).
/// </summary>
public sealed class SqliteLedger : IClaimStore, IDisposable
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS documents (
            id           INTEGER PRIMARY KEY,
            path         TEXT    NOT NULL,
            doc_id       TEXT    NOT NULL,
            content_hash TEXT,
            model_id     TEXT    NOT NULL,
            status       TEXT    NOT NULL,
            attempts     INTEGER NOT NULL DEFAULT 0,
            error        TEXT,
            result_path  TEXT,
            file_size    INTEGER,
            file_mtime   INTEGER,
            updated_at   TEXT    NOT NULL,
            UNIQUE (content_hash, model_id)
        );
        CREATE INDEX IF NOT EXISTS documents_by_path ON documents (path);
        CREATE INDEX IF NOT EXISTS documents_by_status ON documents (status);
        """;

    private const string Columns = "id, path, doc_id, content_hash, model_id, status, attempts, error, result_path, updated_at";

    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();
    private SqliteTransaction? _transaction;

    public string DatabasePath { get; }

    private SqliteLedger(string databasePath, SqliteConnection connection)
    {
        DatabasePath = databasePath;
        _connection = connection;
    }

    /// <summary>Opens (creating when missing) the ledger at <paramref name="databasePath"/>.</summary>
    public static SqliteLedger Open(string databasePath)
    {
        var full = System.IO.Path.GetFullPath(databasePath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString());
        try
        {
            connection.Open();
            // WAL: readers (tests, `sqlite3`) never block the worker. Claims commit with synchronous=NORMAL (a lost claim
            // only means a retry); the writing/done transitions that guard against duplicates commit with FULL.
            Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;");
            Execute(connection, Schema);
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new InvalidOperationException(
                $"cannot open the ledger {full}: {e.Message}. Check the path is writable, or delete the file to start afresh.", e);
        }
        return new SqliteLedger(full, connection);
    }

    /// <summary>
    /// Claims a readable document for scoring. Decides by (content hash, model): already done, exhausted, or being
    /// scored under another path that <paramref name="isInFlight"/> says is live in this process. Otherwise the row is
    /// created or taken over (path updated, attempts + 1, status scoring).
    /// </summary>
    public (BeginOutcome Outcome, LedgerEntry Entry) TryBegin(
        string path, string docId, string contentHash, string modelId, int maxAttempts, Func<string, bool> isInFlight,
        long fileSize = -1, long fileMtime = -1)
    {
        lock (_gate)
        {
            var existing = QuerySingle("WHERE content_hash = $hash AND model_id = $model", ("$hash", contentHash), ("$model", modelId));
            if (existing is not null)
            {
                if (existing.Status == DocumentStatus.Done)
                    return (BeginOutcome.AlreadyDone, existing);
                if (existing.Status == DocumentStatus.Failed && existing.Attempts >= maxAttempts)
                    return (BeginOutcome.Exhausted, existing);
                if (existing.Path != path && isInFlight(existing.Path))
                    return (BeginOutcome.DuplicateInFlight, existing);
                Execute(_connection, """
                    UPDATE documents SET path = $path, doc_id = $doc, status = 'scoring', attempts = attempts + 1,
                        file_size = $size, file_mtime = $mtime, updated_at = $now
                    WHERE id = $id
                    """, ("$path", path), ("$doc", docId), ("$size", fileSize), ("$mtime", fileMtime), ("$now", Now()), ("$id", existing.Id));
                return (BeginOutcome.Started, QuerySingle("WHERE id = $id", ("$id", existing.Id))!);
            }
            using var insert = Command("""
                INSERT INTO documents (path, doc_id, content_hash, model_id, status, attempts, file_size, file_mtime, updated_at)
                VALUES ($path, $doc, $hash, $model, 'scoring', 1, $size, $mtime, $now)
                RETURNING id
                """, ("$path", path), ("$doc", docId), ("$hash", contentHash), ("$model", modelId), ("$size", fileSize), ("$mtime", fileMtime), ("$now", Now()));
            var id = (long)insert.ExecuteScalar()!;
            return (BeginOutcome.Started, QuerySingle("WHERE id = $id", ("$id", id))!);
        }
    }

    /// <summary>
    /// The done or failed row for <paramref name="path"/> whose recorded file size and modification time match:
    /// lets a rescan skip re-reading a file it already handled (mark mode leaves inputs in place).
    /// </summary>
    public LedgerEntry? FindSettled(string path, string modelId, long fileSize, long fileMtime)
    {
        lock (_gate)
        {
            return QuerySingle("""
                WHERE path = $path AND model_id = $model AND file_size = $size AND file_mtime = $mtime
                  AND status IN ('done', 'failed') ORDER BY id DESC LIMIT 1
                """, ("$path", path), ("$model", modelId), ("$size", fileSize), ("$mtime", fileMtime));
        }
    }

    /// <summary>Marks rows as being written: a crash from here on is resolved at restart by looking in the outbox.</summary>
    public void MarkWriting(IReadOnlyList<long> ids) => UpdateMany(ids, "UPDATE documents SET status = 'writing', updated_at = $now WHERE id = $id");

    /// <summary>Commits rows whose results are durably in the outbox (one transaction).</summary>
    public void MarkDone(IReadOnlyList<(long Id, string ResultPath)> done)
    {
        lock (_gate)
        {
            InTransaction(() =>
            {
                var now = Now();
                foreach (var (id, resultPath) in done)
                {
                    Execute(_connection, "UPDATE documents SET status = 'done', error = NULL, result_path = $result, updated_at = $now WHERE id = $id",
                        ("$result", resultPath), ("$now", now), ("$id", id));
                }
            });
        }
    }

    /// <summary>Puts rows back to scoring (a restart found no result for them in the outbox).</summary>
    public void ResetToScoring(IReadOnlyList<long> ids) => UpdateMany(ids, "UPDATE documents SET status = 'scoring', updated_at = $now WHERE id = $id");

    /// <summary>
    /// Records a scoring or writing failure of a started row. Returns true when the row has now used all
    /// <paramref name="maxAttempts"/> and is failed for good.
    /// </summary>
    public bool RecordAttemptFailure(long id, string failure, int maxAttempts)
    {
        lock (_gate)
        {
            Execute(_connection, """
                UPDATE documents SET error = $error, updated_at = $now,
                    status = CASE WHEN attempts >= $max THEN 'failed' ELSE 'scoring' END
                WHERE id = $id
                """, ("$error", failure), ("$now", Now()), ("$max", maxAttempts), ("$id", id));
            return QuerySingle("WHERE id = $id", ("$id", id))!.Status == DocumentStatus.Failed;
        }
    }

    /// <summary>
    /// Records a document that was not scored because of its content or file (binary, not UTF-8, empty, too large,
    /// unreadable, vanished): a failed row with the reason. Readable content is keyed by its hash; otherwise by path.
    /// </summary>
    public LedgerEntry RecordRejected(string path, string docId, string? contentHash, string modelId, string reason, long fileSize = -1, long fileMtime = -1)
    {
        lock (_gate)
        {
            var existing = contentHash is null
                ? QuerySingle("WHERE path = $path AND content_hash IS NULL AND model_id = $model", ("$path", path), ("$model", modelId))
                : QuerySingle("WHERE content_hash = $hash AND model_id = $model", ("$hash", contentHash), ("$model", modelId));
            if (existing is not null)
            {
                Execute(_connection, """
                    UPDATE documents SET path = $path, doc_id = $doc, status = 'failed', attempts = attempts + 1, error = $error,
                        file_size = $size, file_mtime = $mtime, updated_at = $now
                    WHERE id = $id
                    """, ("$path", path), ("$doc", docId), ("$error", reason), ("$size", fileSize), ("$mtime", fileMtime), ("$now", Now()), ("$id", existing.Id));
                return QuerySingle("WHERE id = $id", ("$id", existing.Id))!;
            }
            using var insert = Command("""
                INSERT INTO documents (path, doc_id, content_hash, model_id, status, attempts, error, file_size, file_mtime, updated_at)
                VALUES ($path, $doc, $hash, $model, 'failed', 1, $error, $size, $mtime, $now)
                RETURNING id
                """, ("$path", path), ("$doc", docId), ("$hash", (object?)contentHash ?? DBNull.Value), ("$model", modelId), ("$error", reason),
                ("$size", fileSize), ("$mtime", fileMtime), ("$now", Now()));
            var id = (long)insert.ExecuteScalar()!;
            return QuerySingle("WHERE id = $id", ("$id", id))!;
        }
    }

    /// <summary>Rows left in a given status (at startup: writing rows are the ones a crash interrupted).</summary>
    public IReadOnlyList<LedgerEntry> WithStatus(DocumentStatus status, string? modelId = null)
    {
        lock (_gate)
        {
            return modelId is null
                ? Query("WHERE status = $status ORDER BY id", ("$status", StatusText(status)))
                : Query("WHERE status = $status AND model_id = $model ORDER BY id", ("$status", StatusText(status)), ("$model", modelId));
        }
    }

    /// <summary>Every row, in insertion order (tests and reports).</summary>
    public IReadOnlyList<LedgerEntry> All()
    {
        lock (_gate)
            return Query("ORDER BY id");
    }

    /// <summary>Row counts per status.</summary>
    public IReadOnlyDictionary<DocumentStatus, long> CountByStatus()
    {
        lock (_gate)
        {
            using var command = Command("SELECT status, COUNT(*) FROM documents GROUP BY status");
            using var reader = command.ExecuteReader();
            var counts = new Dictionary<DocumentStatus, long>();
            while (reader.Read())
                counts[ParseStatus(reader.GetString(0))] = reader.GetInt64(1);
            return counts;
        }
    }

    public void Dispose() => _connection.Dispose();

    private void UpdateMany(IReadOnlyList<long> ids, string sql)
    {
        if (ids.Count == 0)
            return;
        lock (_gate)
        {
            InTransaction(() =>
            {
                var now = Now();
                foreach (var id in ids)
                    Execute(_connection, sql, ("$now", now), ("$id", id));
            });
        }
    }

    /// <summary>Runs <paramref name="body"/> in one transaction whose commit is fsync'd (survives power loss).</summary>
    private void InTransaction(Action body)
    {
        Execute(_connection, "PRAGMA synchronous=FULL");
        try
        {
            using var tx = _connection.BeginTransaction();
            _transaction = tx;
            body();
            tx.Commit();
        }
        finally
        {
            _transaction = null;
            Execute(_connection, "PRAGMA synchronous=NORMAL");
        }
    }

    private LedgerEntry? QuerySingle(string where, params (string Name, object Value)[] parameters)
    {
        var rows = Query(where, parameters);
        return rows.Count == 0 ? null : rows[0];
    }

    private List<LedgerEntry> Query(string where, params (string Name, object Value)[] parameters)
    {
        using var command = Command($"SELECT {Columns} FROM documents {where}", parameters);
        using var reader = command.ExecuteReader();
        var rows = new List<LedgerEntry>();
        while (reader.Read())
        {
            rows.Add(new LedgerEntry(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.GetString(4),
                ParseStatus(reader.GetString(5)),
                reader.GetInt32(6),
                reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.IsDBNull(8) ? null : reader.GetString(8),
                DateTimeOffset.Parse(reader.GetString(9), CultureInfo.InvariantCulture)));
        }
        return rows;
    }

    private SqliteCommand Command(string sql, params (string Name, object Value)[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = _transaction;
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        return command;
    }

    private void Execute(SqliteConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        command.ExecuteNonQuery();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string Now() => DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);

    private static string StatusText(DocumentStatus status) => status.ToString().ToLowerInvariant();

    private static DocumentStatus ParseStatus(string text) => Enum.Parse<DocumentStatus>(text, ignoreCase: true);
}
