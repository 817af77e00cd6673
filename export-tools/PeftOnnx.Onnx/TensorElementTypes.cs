using Onnx;

namespace PeftOnnx.Onnx;

/// <summary>Facts about ONNX tensor element types (<see cref="TensorProto.Types.DataType"/>), keyed by the int stored in <c>data_type</c>.</summary>
public static class TensorElementTypes
{
    /// <summary>Bytes per element in raw_data, or 0 for types without a fixed size (STRING) and unknown types.</summary>
    public static int ByteSize(int dataType) => (TensorProto.Types.DataType)dataType switch
    {
        TensorProto.Types.DataType.Uint8 or TensorProto.Types.DataType.Int8 or TensorProto.Types.DataType.Bool => 1,
        TensorProto.Types.DataType.Uint16 or TensorProto.Types.DataType.Int16 or TensorProto.Types.DataType.Float16
            or TensorProto.Types.DataType.Bfloat16 => 2,
        TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Int32 or TensorProto.Types.DataType.Uint32 => 4,
        TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Double or TensorProto.Types.DataType.Uint64
            or TensorProto.Types.DataType.Complex64 => 8,
        TensorProto.Types.DataType.Complex128 => 16,
        _ => 0,
    };

    /// <summary>The schema's name of a data type (FLOAT, INT64, ...), or the number for types newer than the pinned schema.</summary>
    public static string Name(int dataType) =>
        Enum.IsDefined((TensorProto.Types.DataType)dataType)
            ? ((TensorProto.Types.DataType)dataType).ToString().ToUpperInvariant()
            : $"data_type {dataType}";
}
