using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using PeftOnnx.Hosting.Metrics;
using PeftOnnx.Hosting.Worker;

namespace PeftOnnx.Hosting.Pipeline;

/// <summary>
/// Runs ledger and outbox operations through storage trouble. A full disk, an I/O error or a read-only or locked ledger
/// is not the document's fault, so the operation is retried with backoff (0.1 s doubling to <see cref="MaxDelay"/>)
/// until it succeeds or the run stops, and reported meanwhile: a log line, peftonnx.storage.errors and
/// peftonnx.storage.failing, and /readyz not ready. Work resumes by itself once the storage takes writes again.
/// </summary>
public sealed class StorageRetry(ILogger logger, HostingMetrics? metrics, Readiness? readiness, string source)
{
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(100);

    private readonly Lock _gate = new();
    private readonly string _readinessKey = $"storage ({source})";
    private int _failing;

    /// <summary>Operations waiting for the storage right now.</summary>
    public int Failing => Volatile.Read(ref _failing);

    /// <summary>
    /// True for errors of the disk or the database rather than of the data: I/O errors (ENOSPC, EIO, EROFS, EPERM from
    /// chattr +i) and SQLite's full, I/O, read-only, cannot-open, busy and locked results.
    /// </summary>
    public static bool IsStorageError(Exception e) => e switch
    {
        PathTooLongException => false,
        IOException or UnauthorizedAccessException => true,
        // SQLITE_PERM 3, BUSY 5, LOCKED 6, READONLY 8, IOERR 10, FULL 13, CANTOPEN 14, PROTOCOL 15.
        SqliteException s => s.SqliteErrorCode is 3 or 5 or 6 or 8 or 10 or 13 or 14 or 15,
        _ => false,
    };

    /// <summary>
    /// Runs <paramref name="operation"/> until it does not fail with a storage error. Other errors propagate at once;
    /// <paramref name="cancellationToken"/> ends the waiting (OperationCanceledException), never the first try.
    /// </summary>
    public async Task<T> RunAsync<T>(string what, Func<T> operation, CancellationToken cancellationToken)
    {
        var delay = FirstDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var result = operation();
                if (attempt > 1)
                    Recovered(what, attempt);
                return result;
            }
            catch (Exception e) when (IsStorageError(e))
            {
                Failed(what, attempt, e, delay);
            }
            try
            {
                await Task.Delay(delay, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Recovered(what, attempt: 0);
                throw;
            }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
        }
    }

    public Task RunAsync(string what, Action operation, CancellationToken cancellationToken) =>
        RunAsync(what, () =>
        {
            operation();
            return true;
        }, cancellationToken);

    /// <summary>The blocking form, for the stages that run on their own thread.</summary>
    public T Run<T>(string what, Func<T> operation, CancellationToken cancellationToken) =>
        RunAsync(what, operation, cancellationToken).GetAwaiter().GetResult();

    private void Failed(string what, int attempt, Exception e, TimeSpan delay)
    {
        metrics?.RecordStorageError(source, what);
        if (attempt == 1)
        {
            lock (_gate)
            {
                if (_failing++ == 0)
                    readiness?.Expect(_readinessKey, $"{what} fails: {e.Message} (retrying)");
            }
            logger.LogError(e, "Storage error {What} ({Source}): {Error}; retrying with backoff until it succeeds", what, source, e.Message);
        }
        else if ((attempt & (attempt - 1)) == 0)
        {
            logger.LogWarning("{What} ({Source}) still fails after {Attempts} tries: {Error}; next try in {Delay} ms",
                what, source, attempt, e.Message, (int)delay.TotalMilliseconds);
        }
    }

    /// <summary>Ends one operation's failing spell (attempt 0: given up because the run stops).</summary>
    private void Recovered(string what, int attempt)
    {
        lock (_gate)
        {
            if (--_failing == 0)
                readiness?.MarkReady(_readinessKey);
        }
        if (attempt > 0)
            logger.LogInformation("{What} ({Source}) succeeded after {Attempts} tries; storage writes again", what, source, attempt);
    }
}
