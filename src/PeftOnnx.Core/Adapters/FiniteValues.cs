using PeftOnnx.Core.Numerics;

namespace PeftOnnx.Core.Adapters;

/// <summary>
/// The NaN/Inf refusal of every merge (PEFT's <c>safe_merge</c>): a broken adapter must fail the export,
/// not produce a model that silently answers NaN.
/// </summary>
public static class FiniteValues
{
    /// <summary>Throws <see cref="InvalidDataException"/> naming <paramref name="what"/> and the first bad element.</summary>
    public static void Require(Matrix64 matrix, string what)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        var index = FirstNonFinite(matrix.Data);
        if (index >= 0)
        {
            var (row, col) = (index / Math.Max(matrix.Cols, 1), index % Math.Max(matrix.Cols, 1));
            throw new InvalidDataException(
                $"{what} contains {Describe(matrix.Data[index])} at [{row}, {col}] (shape {matrix.Shape}); " +
                "the adapter is broken: retrain it or export it again from a finite checkpoint.");
        }
    }

    /// <summary>Throws <see cref="InvalidDataException"/> naming <paramref name="what"/> and the first bad element.</summary>
    public static void Require(ReadOnlySpan<double> values, string what)
    {
        var index = FirstNonFinite(values);
        if (index >= 0)
        {
            throw new InvalidDataException(
                $"{what} contains {Describe(values[index])} at index {index} (length {values.Length}); " +
                "the adapter is broken: retrain it or export it again from a finite checkpoint.");
        }
    }

    /// <summary>Throws <see cref="InvalidDataException"/> naming <paramref name="what"/> and the first bad element.</summary>
    public static void Require(ReadOnlySpan<float> values, string what)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new InvalidDataException(
                    $"{what} contains {Describe(values[i])} at index {i} (length {values.Length}); " +
                    "the adapter is broken: retrain it or export it again from a finite checkpoint.");
            }
        }
    }

    private static int FirstNonFinite(ReadOnlySpan<double> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
                return i;
        }
        return -1;
    }

    private static string Describe(double value) => double.IsNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";
}
