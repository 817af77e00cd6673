using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.OrtAdapters;

namespace PeftOnnx.Runtime.Adapters;

/// <summary>
/// The stacked inputs of a mixed side graph for one set of adapters: slot 0 is all zeros (no adapter), slot k+1 holds
/// adapter k; LoRA ranks are zero-padded to the set's highest rank (exact: the padded columns contribute 0). Built
/// once per registry version, shared by concurrent runs, native memory freed after the last run that uses it.
/// </summary>
public sealed class MixedAdapterStacks
{
    private readonly List<OrtValue> _values = [];
    private readonly Dictionary<string, int> _slots;
    private readonly RetireAfterLastUse _uses;

    public MixedAdapterStacks(SideGraphManifest side, IReadOnlyList<LoadedAdapter> adapters, int version)
    {
        ArgumentNullException.ThrowIfNull(side);
        ArgumentNullException.ThrowIfNull(adapters);
        Version = version;
        _uses = new RetireAfterLastUse(() => _values.ForEach(v => v.Dispose()));
        _slots = adapters.Select((a, i) => (a.Name, Slot: i + 1)).ToDictionary(x => x.Name, x => x.Slot, StringComparer.Ordinal);
        var count = adapters.Count + 1;
        var rank = Math.Max(1, adapters.Select(a => a.Rank).DefaultIfEmpty(1).Max());
        Rank = rank;
        var names = new List<string>();
        foreach (var slot in side.Lora)
        {
            var a = new float[(long)count * slot.InFeatures * rank];
            var b = new float[(long)count * rank * slot.OutFeatures];
            for (var s = 1; s < count; s++)
            {
                var adapter = adapters[s - 1].File;
                if (Find(adapter, SideAdapterCheck.SideName(slot.AInput)) is not { } pa || Find(adapter, SideAdapterCheck.SideName(slot.BInput)) is not { } pb)
                    continue; // adapter does not touch this module: its slot stays zero
                var r = (int)pa.Dims[1];
                var av = pa.ToFloat32();
                var bv = pb.ToFloat32();
                for (var i = 0; i < slot.InFeatures; i++)
                    Array.Copy(av, i * r, a, ((long)s * slot.InFeatures + i) * rank, r);   // (in, r) into (in, rank)
                Array.Copy(bv, 0, b, (long)s * rank * slot.OutFeatures, (long)r * slot.OutFeatures); // (r, out) into (rank, out)
            }
            Add(names, slot.AInput, a, [count, slot.InFeatures, rank]);
            Add(names, slot.BInput, b, [count, rank, slot.OutFeatures]);
        }
        foreach (var slot in side.Parameters)
        {
            var size = slot.Shape.Aggregate(1L, (n, d) => n * d);
            var stacked = new float[count * size];
            for (var s = 1; s < count; s++)
            {
                if (Find(adapters[s - 1].File, slot.Name) is { } p)
                    p.ToFloat32().CopyTo(stacked, s * size);
            }
            Add(names, slot.Input, stacked, [count, .. slot.Shape]);
        }
        InputNames = names;
    }

    public int Version { get; }

    /// <summary>The padded rank of the LoRA stacks.</summary>
    public int Rank { get; }

    public IReadOnlyList<string> InputNames { get; }

    public IReadOnlyList<OrtValue> Values => _values;

    /// <summary>The adapter_index value of adapter <paramref name="name"/> (0 for null = no adapter).</summary>
    public bool TrySlot(string? name, out long slot)
    {
        if (name is null)
        {
            slot = 0;
            return true;
        }
        var found = _slots.TryGetValue(name, out var s);
        slot = s;
        return found;
    }

    /// <summary>Marks a run using the stack; false when it was already released (build a new one).</summary>
    public bool TryEnter() => _uses.TryEnter();

    public void Exit() => _uses.Exit();

    /// <summary>No new runs are expected; frees the stacks now or after the last running one.</summary>
    public void Retire() => _uses.Retire();

    private void Add(List<string> names, string input, float[] data, long[] shape)
    {
        names.Add(input);
        _values.Add(OrtValue.CreateTensorValueFromMemory(data, shape));
    }

    private static OrtAdapterParameter? Find(OrtAdapterFile file, string name) => file.Parameters.FirstOrDefault(p => p.Name == name);
}
