using System.Text;
using PeftOnnx.Training.Encoder;

namespace PeftOnnx.Training.Arithmetic;

/// <summary>
/// DARE's random keep mask. PEFT draws it with <c>torch.bernoulli(torch.full_like(t, density))</c> from torch's global
/// generator, which no other program reproduces; here element i of a tensor is kept when the 53-bit uniform
/// <c>(SplitMix64(stream + i) &gt;&gt; 11) / 2^53</c> is below the density, and the stream is a hash of
/// (--seed, adapter index, tensor name). So a merge is reproducible from its seed, and independent of the order in
/// which modules are visited; each element is kept with probability density (to 2^-53), as with torch.
/// </summary>
public readonly record struct DareMask(ulong Stream)
{
    private const double UnitScale = 1.0 / (1UL << 53);

    /// <param name="seed">--seed.</param>
    /// <param name="adapterIndex">The adapter's position in --adapters.</param>
    /// <param name="tensor">The tensor's name, e.g. "encoder.layer.0.attention.self.query.lora_A".</param>
    public static DareMask For(ulong seed, int adapterIndex, string tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        // FNV-1a: a stable hash of the name (string.GetHashCode differs per process).
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes($"{adapterIndex}/{tensor}"))
            hash = (hash ^ b) * 1099511628211UL;
        return new DareMask(FastDropout.SplitMix64(seed ^ hash));
    }

    /// <summary>Whether element <paramref name="index"/> survives a pruning that keeps a fraction <paramref name="density"/>.</summary>
    public bool Keeps(long index, double density) => (FastDropout.SplitMix64(Stream + (ulong)index) >> 11) * UnitScale < density;
}
