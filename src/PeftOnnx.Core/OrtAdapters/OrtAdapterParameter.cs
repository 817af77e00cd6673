namespace PeftOnnx.Core.OrtAdapters;

/// <summary>
/// One named tensor of an ONNX Runtime adapter: it replaces the graph input (with initializer default) of the same name
/// while the adapter is active. <see cref="RawData"/> is little-endian, <see cref="DataType"/> an ONNX element type.
/// </summary>
public sealed record OrtAdapterParameter(string Name, long[] Dims, OrtAdapterDataType DataType, byte[] RawData)
{
    public long ElementCount => Dims.Contains(0) ? 0 : Dims.Aggregate(1L, (n, d) => checked(n * d));

    public string ShapeText => "[" + string.Join(", ", Dims) + "]";

    public static OrtAdapterParameter FromFloat32(string name, ReadOnlySpan<float> values, params long[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        var count = dims.Aggregate(1L, (n, d) => checked(n * d));
        if (count != values.Length)
            throw new ArgumentException($"Parameter {name}: shape [{string.Join(", ", dims)}] holds {count} values but {values.Length} were given.", nameof(values));
        var bytes = new byte[values.Length * sizeof(float)];
        for (var i = 0; i < values.Length; i++)
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        return new OrtAdapterParameter(name, dims, OrtAdapterDataType.Float, bytes);
    }

    /// <summary>The values as float32; only for <see cref="OrtAdapterDataType.Float"/> parameters.</summary>
    public float[] ToFloat32()
    {
        if (DataType != OrtAdapterDataType.Float)
            throw new InvalidDataException($"adapter parameter {Name} is {DataType}, not FLOAT.");
        var values = new float[RawData.Length / sizeof(float)];
        for (var i = 0; i < values.Length; i++)
            values[i] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(RawData.AsSpan(i * sizeof(float)));
        return values;
    }
}
