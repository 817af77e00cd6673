using TorchSharp;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Encoder;

/// <summary>
/// Inverted dropout whose keep mask comes from a counter-based hash (SplitMix64) filled in parallel, instead of
/// libtorch's per-element CPU generator: on this project's 2-core CPU, nn.Dropout spends ~8 ns per element drawing
/// Bernoulli numbers, about 40% of a LoRA forward pass at batch 32 × 128 (the attention probabilities alone are
/// 6.3 M elements per layer). Each call draws its 64-bit seed from torch's default generator, so runs stay seeded
/// and reproducible and gradient checkpointing replays the same masks. The mask is kept as bool (1 byte per element),
/// a quarter of a float mask. Same parameters and state dict as nn.Dropout (none).
/// </summary>
public sealed class FastDropout(double p) : nn.Module<Tensor, Tensor>(nameof(FastDropout))
{
    // Masks are filled in chunks of this many elements, one hash per 4 elements (16 bits each).
    private const int Chunk = 1 << 16;

    public double P { get; } = p is >= 0 and < 1 ? p : throw new ArgumentOutOfRangeException(nameof(p), p, "dropout probability must be in [0, 1).");

    public override Tensor forward(Tensor input) => training ? Apply(input, P) : input;

    /// <summary>Zeroes each element with probability <paramref name="p"/> and scales the rest by 1/(1-p).</summary>
    public static Tensor Apply(Tensor input, double p)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (p == 0)
            return input;
        if (input.device_type != DeviceType.CPU)
            return nn.functional.dropout(input, p, true); // CUDA's generator is fast; the hash mask is a CPU fix.
        using var seedTensor = randint(long.MaxValue, [1], dtype: ScalarType.Int64);
        var seed = (ulong)seedTensor.item<long>();
        using var mask = empty(input.shape, dtype: ScalarType.Bool);
        FillKeepMask(mask, seed, 1 - p);
        return input.mul(mask).mul_(1 / (1 - p));
    }

    /// <summary>Sets element i to true with probability <paramref name="keep"/> (16-bit resolution), from (seed, i) alone.</summary>
    internal static void FillKeepMask(Tensor mask, ulong seed, double keep)
    {
        var length = mask.numel();
        var threshold = (ulong)Math.Round(keep * 65536);
        var chunks = (int)((length + Chunk - 1) / Chunk);
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, c =>
        {
            var bytes = mask.bytes; // a view of the tensor's CPU memory
            var start = (long)c * Chunk;
            var end = Math.Min(start + Chunk, length);
            for (var i = start; i < end; i += 4)
            {
                var h = SplitMix64(seed + ((ulong)i >> 2));
                for (var k = 0; k < 4 && i + k < end; k++)
                    bytes[(int)(i + k)] = ((h >> (16 * k)) & 0xFFFF) < threshold ? (byte)1 : (byte)0;
            }
        });
    }

    /// <summary>SplitMix64's finaliser: a 64-bit hash of a counter (also DARE's pruning masks, <c>Arithmetic/DareMask</c>).</summary>
    internal static ulong SplitMix64(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
