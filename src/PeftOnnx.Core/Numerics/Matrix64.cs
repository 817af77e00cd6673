namespace PeftOnnx.Core.Numerics;

/// <summary>
/// A dense row-major float64 matrix: the layout adapter merges compute in, so that rounding happens once,
/// when the merged weight is written back as float32.
/// </summary>
public sealed class Matrix64
{
    public Matrix64(int rows, int cols)
        : this(rows, cols, new double[checked(rows * cols)])
    {
    }

    public Matrix64(int rows, int cols, double[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        if (data.Length != (long)rows * cols)
            throw new ArgumentException($"A [{rows}, {cols}] matrix needs {(long)rows * cols} values, got {data.Length}.", nameof(data));
        Rows = rows;
        Cols = cols;
        Data = data;
    }

    public int Rows { get; }
    public int Cols { get; }

    /// <summary>Row-major values; element (i, j) is at i * Cols + j.</summary>
    public double[] Data { get; }

    public string Shape => $"[{Rows}, {Cols}]";

    public double this[int row, int col]
    {
        get => Data[(row * Cols) + col];
        set => Data[(row * Cols) + col] = value;
    }

    public static Matrix64 FromFloat32(int rows, int cols, ReadOnlySpan<float> values)
    {
        var m = new Matrix64(rows, cols);
        if (values.Length != m.Data.Length)
            throw new ArgumentException($"A [{rows}, {cols}] matrix needs {m.Data.Length} values, got {values.Length}.", nameof(values));
        for (var i = 0; i < values.Length; i++)
            m.Data[i] = values[i];
        return m;
    }

    public float[] ToFloat32()
    {
        var result = new float[Data.Length];
        for (var i = 0; i < Data.Length; i++)
            result[i] = (float)Data[i];
        return result;
    }

    /// <summary>[Rows, Cols] -> [Cols, Rows]; ONNX MatMul weights are the transpose of torch's Linear weight.</summary>
    public Matrix64 Transpose()
    {
        var t = new Matrix64(Cols, Rows);
        for (var i = 0; i < Rows; i++)
            for (var j = 0; j < Cols; j++)
                t.Data[(j * Rows) + i] = Data[(i * Cols) + j];
        return t;
    }

    /// <summary>this [n, k] @ other [k, m] -> [n, m].</summary>
    public Matrix64 Multiply(Matrix64 other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (Cols != other.Rows)
            throw new ArgumentException($"Cannot multiply {Shape} by {other.Shape}: inner dimensions {Cols} and {other.Rows} differ.", nameof(other));
        var result = new Matrix64(Rows, other.Cols);
        for (var i = 0; i < Rows; i++)
        {
            var outRow = result.Data.AsSpan(i * other.Cols, other.Cols);
            for (var k = 0; k < Cols; k++)
            {
                var a = Data[(i * Cols) + k];
                var otherRow = other.Data.AsSpan(k * other.Cols, other.Cols);
                for (var j = 0; j < outRow.Length; j++)
                    outRow[j] += a * otherRow[j];
            }
        }
        return result;
    }

    public Matrix64 Clone() => new(Rows, Cols, (double[])Data.Clone());
}
