using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using PeftOnnx.Runtime.Documents;

namespace PeftOnnx.Hosting.Inbox;

/// <summary>
/// Watches one inbox folder, recursively, and hands over files once they have settled (unchanged for the settle
/// time, so a file still being written is not read half-way). A FileSystemWatcher gives quick notice; a full rescan
/// every rescan period is the safety net, because watchers drop events when their buffer overflows. Hidden files
/// (dot-names, the usual temp names of writers that rename into place) are ignored.
/// </summary>
public sealed class InboxWatcher(string root, TimeSpan settle, TimeSpan rescan, ILogger logger)
{
    private readonly ConcurrentDictionary<string, DateTime> _pending = new(StringComparer.Ordinal);
    private volatile bool _rescanRequested = true;

    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>
    /// Runs until cancelled, calling <paramref name="onReady"/> for each settled file (again after it changes; the
    /// consumer decides by content hash whether there is anything to do).
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
            if (_rescanRequested || DateTime.UtcNow >= nextRescan)
            {
                _rescanRequested = false;
                nextRescan = DateTime.UtcNow + rescan;
                await RescanAsync(onReady, cancellationToken);
            }
            await FlushSettledAsync(onReady, cancellationToken);
            try
            {
                await Task.Delay(tick, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
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
        _pending[path] = DateTime.UtcNow;
    }

    private async Task RescanAsync(Func<string, CancellationToken, ValueTask> onReady, CancellationToken cancellationToken)
    {
        var count = 0;
        // Streams the listing: settled files go straight to the consumer (which applies back-pressure), so a
        // 100,000-file inbox never sits in memory; only files still changing wait in the pending set.
        foreach (var path in DocumentWalker.Walk([Root]))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (IsHidden(path))
                continue;
            if (IsSettled(path, DateTime.MinValue))
            {
                _pending.TryRemove(path, out _);
                await onReady(path, cancellationToken);
            }
            else
            {
                _pending.TryAdd(path, DateTime.UtcNow);
            }
            count++;
        }
        logger.LogDebug("Rescanned {Root}: {Count} files", Root, count);
    }

    private async Task FlushSettledAsync(Func<string, CancellationToken, ValueTask> onReady, CancellationToken cancellationToken)
    {
        foreach (var (path, lastEvent) in _pending)
        {
            if (!File.Exists(path))
            {
                _pending.TryRemove(path, out _);
                continue;
            }
            if (IsSettled(path, lastEvent) && _pending.TryRemove(new KeyValuePair<string, DateTime>(path, lastEvent)))
                await onReady(path, cancellationToken);
        }
    }

    private bool IsSettled(string path, DateTime lastEvent)
    {
        var now = DateTime.UtcNow;
        try
        {
            var written = File.GetLastWriteTimeUtc(path);
            return now - written >= settle && now - lastEvent >= settle;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private bool IsHidden(string path)
    {
        var relative = Path.GetRelativePath(Root, path);
        return relative.Split(Path.DirectorySeparatorChar).Any(part => part.StartsWith('.'));
    }
}
