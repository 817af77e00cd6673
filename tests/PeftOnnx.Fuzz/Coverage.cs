using System.Runtime.InteropServices;
using SharpFuzz.Common;

namespace PeftOnnx.Fuzz;

/// <summary>
/// Edge coverage for the in-process campaign, read from the map SharpFuzz's instrumentation writes (afl's 64 KiB
/// <c>Trace.SharedMem</c>). Only assemblies rewritten by <c>sharpfuzz</c> (scripts/fuzz.sh does it) write to it; on an
/// uninstrumented build no input ever looks new and the campaign mutates its seeds only.
/// </summary>
public sealed unsafe class Coverage : IDisposable
{
    private const int MapSize = 1 << 16;

    // afl's hit-count buckets: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+.
    private static readonly byte[] Bucket = BuildBuckets();

    private readonly byte* _map;
    private readonly byte[] _seen = new byte[MapSize];

    public Coverage()
    {
        _map = (byte*)NativeMemory.AllocZeroed(MapSize);
        Trace.SharedMem = _map;
    }

    /// <summary>Edges seen so far (any hit count).</summary>
    public int Edges { get; private set; }

    public void Reset()
    {
        new Span<byte>(_map, MapSize).Clear();
        Trace.PrevLocation = 0;
    }

    /// <summary>True when the last run hit an edge, or an edge's hit-count bucket, not seen before.</summary>
    public bool HasNewCoverage()
    {
        var found = false;
        var map = new ReadOnlySpan<byte>(_map, MapSize);
        for (var i = map.IndexOfAnyExcept((byte)0); i >= 0 && i < MapSize; i++)
        {
            if (map[i] == 0)
                continue;
            var bucket = Bucket[map[i]];
            if ((_seen[i] & bucket) != bucket)
            {
                if (_seen[i] == 0)
                    Edges++;
                _seen[i] |= bucket;
                found = true;
            }
        }
        return found;
    }

    public void Dispose()
    {
        Trace.SharedMem = null;
        NativeMemory.Free(_map);
    }

    private static byte[] BuildBuckets()
    {
        var buckets = new byte[256];
        for (var n = 1; n < 256; n++)
        {
            buckets[n] = n switch
            {
                1 => 1, 2 => 2, 3 => 4, <= 7 => 8, <= 15 => 16, <= 31 => 32, <= 127 => 64, _ => 128,
            };
        }
        return buckets;
    }
}
