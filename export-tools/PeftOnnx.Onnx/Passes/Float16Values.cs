using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace PeftOnnx.Onnx.Passes;

/// <summary>Float32 constants to float16 the way ORT's float16 converter does it: clamp to the finite range, keep tiny values nonzero.</summary>
internal static class Float16Values
{
    /// <summary>Largest finite half.</summary>
    public const float MaxFinite = 65504f;

    /// <summary>Smallest positive half (subnormal); smaller nonzero magnitudes would round to 0 (an eps of 1e-12 would vanish).</summary>
    public const float MinPositive = 5.96e-08f;

    public static float Clamp(float value)
    {
        if (float.IsNaN(value) || value == 0f)
            return value;
        var magnitude = Math.Abs(value);
        magnitude = magnitude > MaxFinite ? MaxFinite : magnitude < MinPositive ? MinPositive : magnitude;
        return value < 0 ? -magnitude : magnitude;
    }

    /// <summary>A FLOAT16 copy of a FLOAT tensor (name and dims kept), values clamped.</summary>
    public static TensorProto Convert(TensorProto tensor, string name)
    {
        var values = TensorData.ToFloat32(tensor);
        for (var i = 0; i < values.Length; i++)
            values[i] = Clamp(values[i]);
        var converted = TensorData.FromFloat32AsFloat16(name, values, [.. tensor.Dims]);
        converted.DocString = tensor.DocString;
        return converted;
    }

    public static bool IsFloat32(int dataType) => dataType == (int)DataType.Float;
}
