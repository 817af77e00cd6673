using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using PeftOnnx.Runtime.Documents;

namespace PeftOnnx.Hosting.Inbox;

/// <summary>
/// Watches one inbox folder, recursively, and hands over files once they have settled: the same size and modification
/// time seen by this watcher for the whole settle time, with no change event in between. The watcher's own clock
/// decides, never the file's time stamp, so a writer on a host whose clock lags, or one that sets old time stamps
/// (a copy that preserves them), is not read half-way. A FileSystemWatcher gives quick notice; a full rescan every
/// rescan period is the safety net, because watchers drop events when their buffer overflows. Hidden files (dot-names,
/// the usual temp names of writers that rename into place) are ignored.
/// </summary>
public sealed class InboxWatcher(string root, TimeSpan settle, TimeSpan rescan, ILogger logger)
{
    private readonly ConcurrentDictionary<string, Observation> _pending = new(StringComparer.Ordinal);
    private volatile bool _rescanRequested = true;

    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>
    /// Runs until cancelled, calling <paramref name="onReady"/> for each settled file (again after it changes; the
    /// consumer decides by content hash whether there is anything to do). An error in a scan is logged and the next
    /// scan tries again; only cancellation ends the loop.
    /// </summary>
    public async Task RunAsync(Func<string, CancellationToken, ValueTask> onReady, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Root);
        using var watcher = new FileSystemWatcher(Root)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
            InternalBufferSize = 64 * 1024,
        };
        watcher.Created += (_, e) => Touch(e.FullPath);
        watcher.Changed += (_, e) => Touch(e.FullPath);
        watcher.Renamed += (_, e) => Touch(e.FullPath);
        watcher.Error += (_, e) =>
        {
            logger.LogWarning(e.GetException(), "The watcher on {Root} lost events; rescanning", Root);
            _rescanRequested = true;
        };
        watcher.EnableRaisingEvents = true;

        var nextRescan = DateTime.UtcNow;
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(settle.TotalMilliseconds / 2, 50, 1000));
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (_rescanRequested || DateTime.UtcNow >= nextRescan)
                {
                    _rescanRequested = false;
                    nextRescan = DateTime.UtcNow + rescan;
                    Rescan(cancellationToken);
                }
                await FlushSettledAsync(onReady, cancellationToken);
                await Task.Delay(tick, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // The inbox deleted or unreadable, a consumer error: keep watching; the next scan tries again.
                logger.LogError(e, "Scanning {Root} failed; trying again at the next rescan", Root);
                _rescanRequested = false;
                await Task.Delay(tick, CancellationToken.None);
            }
        }
    }

    private void Touch(string path)
    {
        if (IsHidden(path))
            return;
        if (Directory.Exists(path))
        {
            // A folder moved in whole raises one event for the folder: its files come with the next rescan.
            _rescanRequested = true;
            return;
        }
        // An event restarts the settle time even when size and time stamp look the same (coarse time stamps).
        _pending[path] = Observation.None(DateTime.UtcNow);
    }

    /// <summary>
    /// Puts every file under observation (files already observed keep their clock). Streams the listing; what waits
    /// in memory is one small entry per file until it settles.
    /// </summary>
    private void Rescan(CancellationToken cancellationToken)
    {
        var count = 0;
        var now = DateTime.UtcNow;
        foreach (var path in DocumentWalker.Walk([Root]))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (IsHidden(path))
                continue;
            _pending.TryAdd(path, Observation.None(now));
            count++;
        }
        logger.LogDebug("Rescanned {Root}: {Count} files", Root, count);
    }

    private async Task FlushSettledAsync(Func<string, CancellationToken, ValueTask> onReady, CancellationToken cancellationToken)
    {
        foreach (var (path, seen) in _pending)
        {
            var now = DateTime.UtcNow;
            var current = Observe(path, now);
            if (current is null)
            {
                _pending.TryRemove(new KeyValuePair<string, Observation>(path, seen));
                continue;
            }
            if (!current.SameFileState(seen))
            {
                // Changed since last seen (or first look): the settle time starts again.
                _pending.TryUpdate(path, current, seen);
                continue;
            }
            if (now - seen.Since >= settle && _pending.TryRemove(new KeyValuePair<string, Observation>(path, seen)))
                await onReady(path, cancellationToken);
        }
    }

    /// <summary>The file's size and modification time now, or null when it is gone.</summary>
    private static Observation? Observe(string path, DateTime now)
    {
        try
        {
            var info = new FileInfo(path);
            return info.Exists ? new Observation(info.Length, info.LastWriteTimeUtc, now) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Unreadable metadata: hand it over after the settle time; the reader reports what is wrong with it.
            return new Observation(-2, DateTime.MinValue, now);
        }
    }

    private bool IsHidden(string path)
    {
        var relative = Path.GetRelativePath(Root, path);
        return relative.Split(Path.DirectorySeparatorChar).Any(part => part.StartsWith('.'));
    }

    /// <summary>What the watcher saw of a file and since when it has looked like this (-1: not looked at yet).</summary>
    private sealed record Observation(long Size, DateTime Modified, DateTime Since)
    {
        public static Observation None(DateTime now) => new(-1, DateTime.MinValue, now);

        public bool SameFileState(Observation other) => Size != -1 && Size == other.Size && Modified == other.Modified;
    }
}
