using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace PeftOnnx.Onnx;

/// <summary>
/// Reads and writes the values of a <see cref="TensorProto"/>: raw_data (little-endian) or the typed fields
/// (float_data, int32_data, int64_data, double_data), for FLOAT, FLOAT16, DOUBLE, INT32 and INT64 tensors.
/// Tensors with external data must have been loaded with <see cref="OnnxModelFile.Load"/>, which resolves it.
/// </summary>
public static class TensorData
{
    public static long[] Shape(TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return [.. tensor.Dims];
    }

    /// <summary>Number of elements: the product of the dims (1 for a scalar).</summary>
    public static long ElementCount(IEnumerable<long> dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        long count = 1;
        foreach (var d in dims)
        {
            if (d < 0)
                throw new InvalidDataException($"Tensor dimension {d} is negative; initializer shapes must be static.");
            count = checked(count * d);
        }
        return count;
    }

    public static float[] ToFloat32(TensorProto tensor)
    {
        var count = CountOf(tensor);
        switch (tensor.DataType)
        {
            case (int)DataType.Float:
                if (tensor.HasRawData) return FromRaw<float>(tensor, count);
                CheckTyped(tensor, tensor.FloatData.Count, count);
                return [.. tensor.FloatData];
            case (int)DataType.Float16:
                // FLOAT16 without raw_data keeps each value's bits in the low 16 bits of an int32_data entry.
                if (tensor.HasRawData) return [.. FromRaw<Half>(tensor, count).Select(h => (float)h)];
                CheckTyped(tensor, tensor.Int32Data.Count, count);
                return [.. tensor.Int32Data.Select(bits => (float)BitConverter.UInt16BitsToHalf((ushort)bits))];
            case (int)DataType.Double:
                return [.. ToFloat64(tensor).Select(d => (float)d)];
            case (int)DataType.Int32:
            case (int)DataType.Int64:
                return [.. ToInt64(tensor).Select(v => (float)v)];
            default:
                throw Unsupported(tensor, "float32");
        }
    }

    public static double[] ToFloat64(TensorProto tensor)
    {
        var count = CountOf(tensor);
        if (tensor.DataType != (int)DataType.Double)
        {
            return tensor.DataType is (int)DataType.Int32 or (int)DataType.Int64
                ? [.. ToInt64(tensor).Select(v => (double)v)]
                : [.. ToFloat32(tensor).Select(v => (double)v)];
        }
        if (tensor.HasRawData) return FromRaw<double>(tensor, count);
        CheckTyped(tensor, tensor.DoubleData.Count, count);
        return [.. tensor.DoubleData];
    }

    public static long[] ToInt64(TensorProto tensor)
    {
        var count = CountOf(tensor);
        switch (tensor.DataType)
        {
            case (int)DataType.Int64:
                if (tensor.HasRawData) return FromRaw<long>(tensor, count);
                CheckTyped(tensor, tensor.Int64Data.Count, count);
                return [.. tensor.Int64Data];
            case (int)DataType.Int32:
                if (tensor.HasRawData) return [.. FromRaw<int>(tensor, count).Select(v => (long)v)];
                CheckTyped(tensor, tensor.Int32Data.Count, count);
                return [.. tensor.Int32Data.Select(v => (long)v)];
            default:
                throw Unsupported(tensor, "int64");
        }
    }

    public static TensorProto FromFloat32(string name, ReadOnlySpan<float> data, params long[] dims) =>
        Create(name, (int)DataType.Float, data, dims);

    /// <summary>Rounds each value to the nearest FLOAT16 (values beyond ±65504 become ±infinity, as in IEEE 754).</summary>
    public static TensorProto FromFloat32AsFloat16(string name, ReadOnlySpan<float> data, params long[] dims)
    {
        var halves = new Half[data.Length];
        for (var i = 0; i < data.Length; i++)
            halves[i] = (Half)data[i];
        return Create<Half>(name, (int)DataType.Float16, halves, dims);
    }

    public static TensorProto FromFloat64(string name, ReadOnlySpan<double> data, params long[] dims) =>
        Create(name, (int)DataType.Double, data, dims);

    public static TensorProto FromInt64(string name, ReadOnlySpan<long> data, params long[] dims) =>
        Create(name, (int)DataType.Int64, data, dims);

    public static TensorProto FromInt32(string name, ReadOnlySpan<int> data, params long[] dims) =>
        Create(name, (int)DataType.Int32, data, dims);

    public static TensorProto FromInt8(string name, ReadOnlySpan<sbyte> data, params long[] dims) =>
        Create(name, (int)DataType.Int8, data, dims);

    public static TensorProto FromUInt8(string name, ReadOnlySpan<byte> data, params long[] dims) =>
        Create(name, (int)DataType.Uint8, data, dims);

    /// <summary>An initializer with its values in raw_data (little-endian, the layout ONNX Runtime reads without a copy).</summary>
    private static TensorProto Create<T>(string name, int dataType, ReadOnlySpan<T> data, long[] dims)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(dims);
        var count = ElementCount(dims);
        if (count != data.Length)
            throw new ArgumentException($"Tensor {name}: shape [{string.Join(", ", dims)}] holds {count} elements but {data.Length} values were given.", nameof(data));
        var tensor = new TensorProto { Name = name, DataType = dataType, RawData = ToLittleEndian(data) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    private static ByteString ToLittleEndian<T>(ReadOnlySpan<T> data) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(data).ToArray();
        if (!BitConverter.IsLittleEndian)
            ReverseEach(bytes, bytes.Length / Math.Max(data.Length, 1));
        return UnsafeByteOperations.UnsafeWrap(bytes);
    }

    private static T[] FromRaw<T>(TensorProto tensor, long count) where T : unmanaged
    {
        var raw = tensor.RawData.Span;
        var size = Marshal.SizeOf<T>();
        if (raw.Length != count * size)
        {
            throw new InvalidDataException(
                $"Tensor {tensor.Name} ({TensorElementTypes.Name(tensor.DataType)} [{string.Join(", ", tensor.Dims)}]) needs {count * size} bytes of raw_data but has {raw.Length}.");
        }
        var values = MemoryMarshal.Cast<byte, T>(raw).ToArray();
        if (!BitConverter.IsLittleEndian)
            ReverseEach(MemoryMarshal.AsBytes(values.AsSpan()), size);
        return values;
    }

    private static void ReverseEach(Span<byte> bytes, int size)
    {
        for (var i = 0; i + size <= bytes.Length; i += size)
            bytes.Slice(i, size).Reverse();
    }

    private static long CountOf(TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
        {
            throw new InvalidOperationException(
                $"Tensor {tensor.Name} keeps its data in an external file; load the model with OnnxModelFile.Load, which reads external data.");
        }
        return ElementCount(tensor.Dims);
    }

    private static void CheckTyped(TensorProto tensor, int typedCount, long count)
    {
        if (typedCount != count)
        {
            throw new InvalidDataException(
                $"Tensor {tensor.Name} ({TensorElementTypes.Name(tensor.DataType)} [{string.Join(", ", tensor.Dims)}]) has {typedCount} typed values but its shape needs {count}.");
        }
    }

    private static NotSupportedException Unsupported(TensorProto tensor, string target) =>
        new($"Tensor {tensor.Name} has element type {TensorElementTypes.Name(tensor.DataType)}, which cannot be read as {target}.");
}
