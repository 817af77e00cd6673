using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Files;
using PeftOnnx.Core.OrtAdapters;

namespace PeftOnnx.Runtime.Adapters;

/// <summary>
/// A folder of <c>.onnx_adapter</c> files served by name (file name without the extension). New files are loaded,
/// changed ones reloaded, removed ones unloaded, with no restart and no session reload: a FileSystemWatcher triggers a
/// rescan, and <see cref="Rescan"/> can be called directly. Every file is checked against the bundle's side.json
/// first (only regular files are opened; a FIFO or device is refused without blocking); a refused file is logged once
/// and listed in <see cref="Errors"/> while the other adapters keep serving, and no exception ever leaves a rescan.
/// Lookups read an immutable snapshot, so switching adapters per run costs a dictionary lookup.
/// </summary>
public sealed class AdapterRegistry : IDisposable
{
    private readonly SideGraphManifest _side;
    private readonly ILogger _logger;
    private readonly object _scanGate = new();
    private readonly FileSystemWatcher? _watcher;
    private readonly Timer _debounce;
    private volatile ImmutableDictionary<string, LoadedAdapter> _adapters = ImmutableDictionary.Create<string, LoadedAdapter>(StringComparer.Ordinal);
    private ImmutableDictionary<string, Refusal> _errors = ImmutableDictionary.Create<string, Refusal>(StringComparer.Ordinal);
    private bool _disposed;

    public AdapterRegistry(string directory, SideGraphManifest side, bool watch = true, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = System.IO.Path.GetFullPath(directory);
        _side = side ?? throw new ArgumentNullException(nameof(side));
        _logger = logger ?? NullLogger.Instance;
        System.IO.Directory.CreateDirectory(Directory);
        _debounce = new Timer(_ => SafeRescan(), null, Timeout.Infinite, Timeout.Infinite);
        Rescan();
        if (watch)
        {
            _watcher = new FileSystemWatcher(Directory, "*" + OrtAdapterFile.Extension) { NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size };
            _watcher.Created += (_, _) => Schedule();
            _watcher.Changed += (_, _) => Schedule();
            _watcher.Deleted += (_, _) => Schedule();
            _watcher.Renamed += (_, _) => Schedule();
            _watcher.EnableRaisingEvents = true;
        }
    }

    public string Directory { get; }

    /// <summary>Increments on every change of the served set (mixed stacks are rebuilt when it moves).</summary>
    public int Version { get; private set; }

    public IReadOnlyDictionary<string, LoadedAdapter> Adapters => _adapters;

    /// <summary>Refused files by adapter name, with the reason.</summary>
    public IReadOnlyDictionary<string, string> Errors => _errors.ToImmutableDictionary(e => e.Key, e => e.Value.Reason, StringComparer.Ordinal);

    /// <summary>A lease on adapter <paramref name="name"/> for one run; throws <see cref="AdapterNotFoundException"/> naming what is served.</summary>
    public AdapterLease Acquire(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (!_adapters.TryGetValue(name, out var adapter))
                break;
            try
            {
                return adapter.Acquire();
            }
            catch (ObjectDisposedException)
            {
                // replaced between the lookup and the lease: read the new snapshot
            }
        }
        throw NotFound(name);
    }

    /// <summary>
    /// The adapter for texts that name none: <paramref name="requested"/> when it is served (else
    /// <see cref="AdapterNotFoundException"/> listing what is), else the only adapter served; null when none or several
    /// are served and none was requested. A side bundle's graph without an adapter runs its inputs' defaults (zero deltas,
    /// the classifier of the adapter it was exported with), not a trained model, so it is never the default that scores.
    /// </summary>
    public string? ChooseDefault(string? requested)
    {
        if (requested is not null)
            return _adapters.ContainsKey(requested) ? requested : throw NotFound(requested);
        return _adapters.Count == 1 ? _adapters.Keys.First() : null;
    }

    public AdapterNotFoundException NotFound(string name)
    {
        if (_errors.TryGetValue(name, out var error))
            return new AdapterNotFoundException($"adapter \"{name}\" is not served: {error.Reason}");
        var served = _adapters.Keys.Order(StringComparer.Ordinal).ToList();
        return new AdapterNotFoundException(
            $"no adapter \"{name}\" in {Directory} (serving {(served.Count == 0 ? "none" : string.Join(", ", served))}); add {name}{OrtAdapterFile.Extension} there or pick a served name.");
    }

    /// <summary>Brings the served set in line with the folder; returns the names loaded, reloaded or removed.</summary>
    public IReadOnlyList<string> Rescan()
    {
        lock (_scanGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var changed = new List<string>();
            // Old adapters retire only after the new snapshot is published: a run that leases one in between
            // retries on the new snapshot instead of finding its adapter gone.
            var retiring = new List<LoadedAdapter>();
            var files = System.IO.Directory.EnumerateFiles(Directory, "*" + OrtAdapterFile.Extension)
                .ToDictionary(p => System.IO.Path.GetFileNameWithoutExtension(p), StringComparer.Ordinal);
            var adapters = _adapters;
            var errors = _errors;
            foreach (var (name, old) in adapters)
            {
                if (!files.ContainsKey(name))
                {
                    adapters = adapters.Remove(name);
                    retiring.Add(old);
                    changed.Add(name);
                    _logger.LogInformation("Adapter {Adapter} unloaded ({Path} removed)", name, old.Path);
                }
            }
            errors = errors.RemoveRange(errors.Keys.Where(n => !files.ContainsKey(n)));
            foreach (var (name, path) in files)
            {
                FileInfo info;
                try
                {
                    info = new FileInfo(path);
                    if (!info.Exists)
                        continue;
                }
                catch (IOException)
                {
                    continue;
                }
                if (adapters.TryGetValue(name, out var current) && current.LastWriteUtc == info.LastWriteTimeUtc && current.Length == info.Length)
                    continue;
                if (errors.TryGetValue(name, out var refused) && refused.LastWriteUtc == info.LastWriteTimeUtc && refused.Length == info.Length)
                    continue; // refused as it is now: logged once, tried again when it changes
                try
                {
                    var loaded = Load(name, path, info);
                    adapters = adapters.SetItem(name, loaded);
                    errors = errors.Remove(name);
                    if (current is not null)
                        retiring.Add(current);
                    changed.Add(name);
                    _logger.LogInformation("Adapter {Adapter} loaded from {Path} (rank {Rank})", name, path, loaded.Rank);
                }
                catch (Exception e)
                {
                    // Whatever a file holds, it costs only itself: the adapters already served keep serving.
                    _logger.LogWarning("Adapter {Adapter} refused: {Reason}", name, e.Message);
                    errors = errors.SetItem(name, new Refusal(e.Message, info.LastWriteTimeUtc, info.Length));
                }
            }
            if (changed.Count > 0)
                Version++;
            _adapters = adapters;
            _errors = errors;
            foreach (var adapter in retiring)
                adapter.Retire();
            return changed;
        }
    }

    private LoadedAdapter Load(string name, string path, FileInfo info)
    {
        var bytes = RegularFile.ReadAllBytes(path);
        var file = OrtAdapterFile.Parse(bytes, path);
        var rank = SideAdapterCheck.Validate(_side, file, path);
        var native = OrtLoraAdapter.Create(bytes, null);
        return new LoadedAdapter(name, path, file, native, rank, info.LastWriteTimeUtc, info.Length);
    }

    private void Schedule()
    {
        if (!_disposed)
            _debounce.Change(100, Timeout.Infinite); // writers produce several events per file: scan once they settle
    }

    private void SafeRescan()
    {
        try
        {
            if (!_disposed)
                Rescan();
        }
        catch (Exception e)
        {
            // A timer callback that throws ends the process: log and wait for the next change instead.
            _logger.LogWarning("Adapter folder {Directory} rescan failed: {Reason}", Directory, e.Message);
        }
    }

    /// <summary>Why a file was refused, and the version of it that was.</summary>
    private sealed record Refusal(string Reason, DateTime LastWriteUtc, long Length);

    public void Dispose()
    {
        lock (_scanGate)
        {
            if (_disposed)
                return;
            _disposed = true;
            _watcher?.Dispose();
            _debounce.Dispose();
            foreach (var adapter in _adapters.Values)
                adapter.Retire();
            _adapters = _adapters.Clear();
        }
    }
}
