namespace PeftOnnx.Onnx.Passes;

/// <summary>
/// Symmetric int8 weight quantization (zero point 0, range [-127, 127], as ORT's quantize_dynamic uses for QInt8 weights):
/// q = round(w / s), s = max|w| / 127 per column or per row.
/// </summary>
public static class SymmetricInt8
{
    private const float QMax = 127f;

    /// <summary>Per column (output channel) of a [rows=in, cols=out] MatMul weight: scales has one entry per column.</summary>
    public static (sbyte[] Values, float[] Scales) QuantizeColumns(float[] weight, int rows, int cols)
    {
        Check(weight, rows, cols);
        var scales = new float[cols];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < cols; c++)
                scales[c] = Math.Max(scales[c], Math.Abs(weight[(long)r * cols + c]));
        }
        for (var c = 0; c < cols; c++)
            scales[c] = Scale(scales[c]);
        var values = new sbyte[weight.Length];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < cols; c++)
                values[(long)r * cols + c] = Quantize(weight[(long)r * cols + c], scales[c]);
        }
        return (values, scales);
    }

    /// <summary>Per row of a [rows, cols] table (one embedding vector per row): scales has one entry per row.</summary>
    public static (sbyte[] Values, float[] Scales) QuantizeRows(float[] table, int rows, int cols)
    {
        Check(table, rows, cols);
        var scales = new float[rows];
        var values = new sbyte[table.Length];
        for (var r = 0; r < rows; r++)
        {
            var row = table.AsSpan((int)((long)r * cols), cols);
            var max = 0f;
            foreach (var v in row)
                max = Math.Max(max, Math.Abs(v));
            scales[r] = Scale(max);
            for (var c = 0; c < cols; c++)
                values[(long)r * cols + c] = Quantize(row[c], scales[r]);
        }
        return (values, scales);
    }

    /// <summary>An all-zero channel gets scale 1 so dequantization stays finite (its values quantize to 0 either way).</summary>
    private static float Scale(float maxAbs) => maxAbs > 0 ? maxAbs / QMax : 1f;

    private static sbyte Quantize(float value, float scale) =>
        (sbyte)Math.Clamp(MathF.Round(value / scale, MidpointRounding.ToEven), -QMax, QMax);

    private static void Check(float[] data, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length != (long)rows * cols)
            throw new ArgumentException($"Weight has {data.Length} values, expected {rows}x{cols} = {(long)rows * cols}.", nameof(data));
        foreach (var v in data)
        {
            if (!float.IsFinite(v))
                throw new InvalidDataException($"Weight holds a non-finite value ({v}); refusing to quantize it.");
        }
    }
}
