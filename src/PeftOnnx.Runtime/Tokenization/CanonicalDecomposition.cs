namespace PeftOnnx.Runtime.Tokenization;

/// <summary>
/// Full canonical decomposition (the per-character part of NFD) of the code points Unicode 9.0 assigned,
/// as in the normalisation crate Hugging Face tokenizers uses; no ICU needed (the runtime runs with
/// InvariantGlobalization, where <see cref="string.Normalize()"/> is a no-op).
/// </summary>
/// <remarks>
/// Canonical reordering of combining marks is not applied. The tokenizer only decomposes in order to
/// drop nonspacing marks, and every mark with a nonzero combining class is nonspacing except 25 spacing
/// marks (e.g. U+1D165 musical stem); only a run of two of those with descending classes could differ.
/// </remarks>
internal static partial class CanonicalDecomposition
{
    /// <summary>Longest full canonical decomposition of one code point.</summary>
    public const int MaxLength = 4;

    private const int HangulBase = 0xAC00, HangulCount = 11172;
    private const int LeadBase = 0x1100, VowelBase = 0x1161, TrailBase = 0x11A7;
    private const int VowelCount = 21, TrailCount = 28;

    public static bool HasDecomposition(int codePoint) =>
        (uint)(codePoint - HangulBase) < HangulCount || Keys.BinarySearch(codePoint) >= 0;

    /// <summary>Writes the decomposition of <paramref name="codePoint"/> (itself when it has none); returns its length.</summary>
    public static int Decompose(int codePoint, Span<int> destination)
    {
        int s = codePoint - HangulBase;
        if ((uint)s < HangulCount)
        {
            // Hangul syllables decompose algorithmically into leading consonant, vowel and optional trailing consonant.
            destination[0] = LeadBase + s / (VowelCount * TrailCount);
            destination[1] = VowelBase + s % (VowelCount * TrailCount) / TrailCount;
            int trail = s % TrailCount;
            if (trail == 0)
                return 2;
            destination[2] = TrailBase + trail;
            return 3;
        }

        int index = Keys.BinarySearch(codePoint);
        if (index < 0)
        {
            destination[0] = codePoint;
            return 1;
        }
        var parts = Data[Starts[index]..Starts[index + 1]];
        parts.CopyTo(destination);
        return parts.Length;
    }
}
