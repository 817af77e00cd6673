using System.Runtime.InteropServices;

namespace PeftOnnx.Core.SafeTensors;

/// <summary>A named tensor to write: dtype, shape and raw little-endian bytes.</summary>
public sealed record SafeTensor(string Name, SafeTensorDType DType, long[] Shape, byte[] Data)
{
    public static SafeTensor FromFloat32(string name, float[] data, params long[] shape)
    {
        CheckCount(name, data.Length, shape);
        return new(name, SafeTensorDType.F32, shape, MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
    }

    public static SafeTensor FromInt64(string name, long[] data, params long[] shape)
    {
        CheckCount(name, data.Length, shape);
        return new(name, SafeTensorDType.I64, shape, MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
    }

    private static void CheckCount(string name, int length, long[] shape)
    {
        var count = shape.Aggregate(1L, (n, d) => n * d);
        if (count != length)
            throw new ArgumentException($"Tensor '{name}': shape [{string.Join(", ", shape)}] holds {count} elements but {length} were given.");
    }
}
