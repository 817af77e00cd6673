using PeftOnnx.Core.OrtAdapters;

namespace PeftOnnx.Tests;

/// <summary>
/// A second tenant for side-bundle tests: the same adapter with its classifier rows (weight and bias) reversed, so its
/// probabilities are the first tenant's in reverse label order; and the short package descriptions both score.
/// </summary>
internal static class ReversedTenant
{
    public static readonly string[] Texts =
    [
        "The kernel scheduler handles processes on many CPUs.",
        "A video player with subtitles and playlists.",
        "Python library for parsing XML documents quickly.",
        "Fonts for Devanagari and Tamil scripts.",
        "An email client with PGP support.",
        "Tools to inspect and repair ext4 file systems.",
    ];

    /// <summary><paramref name="adapter"/> with every classifier parameter's rows in reverse order; the rest as it is.</summary>
    public static OrtAdapterFile Of(OrtAdapterFile adapter) =>
        new([.. adapter.Parameters.Select(p => p.Name.StartsWith("classifier.", StringComparison.Ordinal) ? ReverseRows(p) : p)]);

    private static OrtAdapterParameter ReverseRows(OrtAdapterParameter weight)
    {
        var values = weight.ToFloat32();
        var (rows, cols) = ((int)weight.Dims[0], weight.Dims.Length == 2 ? (int)weight.Dims[1] : 1);
        var reversed = new float[values.Length];
        for (var r = 0; r < rows; r++)
            Array.Copy(values, (rows - 1 - r) * cols, reversed, r * cols, cols);
        return OrtAdapterParameter.FromFloat32(weight.Name, reversed, weight.Dims);
    }
}
