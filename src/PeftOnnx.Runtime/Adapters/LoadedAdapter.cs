using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Core.OrtAdapters;

namespace PeftOnnx.Runtime.Adapters;

/// <summary>
/// One adapter file loaded into ONNX Runtime (<see cref="OrtLoraAdapter"/>) plus its parsed parameters (for mixed
/// stacks). Runs hold it through <see cref="Acquire"/> leases; when the registry retires it (file removed or replaced),
/// the native adapter is disposed once the last lease is returned, so a run never sees its adapter freed.
/// </summary>
public sealed class LoadedAdapter
{
    private readonly RetireAfterLastUse _uses;

    internal LoadedAdapter(string name, string path, OrtAdapterFile file, OrtLoraAdapter native, int rank, DateTime lastWriteUtc, long length)
    {
        Name = name;
        Path = path;
        File = file;
        Native = native;
        Rank = rank;
        LastWriteUtc = lastWriteUtc;
        Length = length;
        _uses = new RetireAfterLastUse(native.Dispose);
    }

    public string Name { get; }

    public string Path { get; }

    public OrtAdapterFile File { get; }

    /// <summary>The ONNX Runtime adapter; owned here, disposed after retirement and the last lease.</summary>
    public OrtLoraAdapter Native { get; }

    /// <summary>Highest LoRA rank (0 for adapters without LoRA parameters).</summary>
    public int Rank { get; }

    internal DateTime LastWriteUtc { get; }

    internal long Length { get; }

    /// <summary>True once disposed: the adapter was retired and no run holds it.</summary>
    public bool IsReleased => _uses.IsReleased;

    /// <summary>A lease for one run; dispose it when the run is done. Throws when the adapter was already released.</summary>
    public AdapterLease Acquire() => _uses.TryEnter()
        ? new AdapterLease(this)
        : throw new ObjectDisposedException(Name, $"adapter {Name} was unloaded ({Path} changed or was removed).");

    internal void Release() => _uses.Exit();

    /// <summary>No new leases are expected; disposes now or after the last running lease.</summary>
    internal void Retire() => _uses.Retire();
}

/// <summary>Keeps a <see cref="LoadedAdapter"/> alive for one run.</summary>
public sealed class AdapterLease : IDisposable
{
    private LoadedAdapter? _adapter;

    internal AdapterLease(LoadedAdapter adapter) => _adapter = adapter;

    public LoadedAdapter Adapter => _adapter ?? throw new ObjectDisposedException(nameof(AdapterLease));

    public void Dispose()
    {
        Interlocked.Exchange(ref _adapter, null)?.Release();
    }
}
