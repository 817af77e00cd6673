using System.Numerics;
using System.Runtime.CompilerServices;

namespace PeftOnnx.Runtime.Tokenization;

/// <summary>
/// A read-only string -> id table answering WordPiece's question, "the longest key that is a prefix of this
/// text", in one pass: the text's prefix hashes are computed incrementally once, then each candidate length
/// costs a single probe, longest first. Open addressing, linear probing, about half full.
/// </summary>
internal sealed class PrefixTable
{
    private const uint FnvOffset = 2166136261u, FnvPrime = 16777619u;
    private const int StackHashes = 128;

    private readonly int[] _ids;
    private readonly uint[] _hashes;
    private readonly string[] _keys;
    private readonly int _shift;
    private readonly int _mask;

    public PrefixTable(IReadOnlyDictionary<string, int> entries)
    {
        int bits = Math.Max(4, BitOperations.Log2((uint)Math.Max(1, entries.Count)) + 2);
        int size = 1 << bits;
        _shift = 32 - bits;
        _mask = size - 1;
        _ids = new int[size];
        Array.Fill(_ids, -1);
        _hashes = new uint[size];
        _keys = new string[size];
        foreach (var (key, id) in entries)
        {
            if (key.Length == 0)
                continue;
            MaxLength = Math.Max(MaxLength, key.Length);
            uint hash = FnvOffset;
            foreach (char c in key)
                hash = Step(hash, c);
            int slot = Slot(hash);
            while (_ids[slot] >= 0)
                slot = (slot + 1) & _mask;
            _ids[slot] = id;
            _hashes[slot] = hash;
            _keys[slot] = key;
        }
    }

    /// <summary>Longest key, in UTF-16 units.</summary>
    public int MaxLength { get; }

    /// <summary>Length of the longest key that <paramref name="text"/> starts with (0 when none), and its id.</summary>
    public int LongestPrefix(ReadOnlySpan<char> text, out int id)
    {
        int n = Math.Min(text.Length, MaxLength);
        Span<uint> prefixHashes = n <= StackHashes ? stackalloc uint[StackHashes] : new uint[n];
        uint hash = FnvOffset;
        for (int k = 0; k < n; k++)
        {
            hash = Step(hash, text[k]);
            prefixHashes[k] = hash;
        }

        var ids = _ids;
        for (int length = n; length > 0; length--)
        {
            uint h = prefixHashes[length - 1];
            for (int slot = Slot(h); ids[slot] >= 0; slot = (slot + 1) & _mask)
            {
                if (_hashes[slot] == h && text[..length].SequenceEqual(_keys[slot]))
                {
                    id = ids[slot];
                    return length;
                }
            }
        }
        id = -1;
        return 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Step(uint hash, char c) => (hash ^ c) * FnvPrime;

    // Fibonacci hashing: the top bits of hash * 2^32/phi pick the slot.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Slot(uint hash) => (int)((hash * 2654435769u) >> _shift);
}
