namespace PeftOnnx.Core.OrtAdapters;

/// <summary>TensorDataType of adapter_schema.fbs: the same numbers as ONNX's TensorProto.DataType.</summary>
#pragma warning disable CA1720 // the members are the schema's type names
public enum OrtAdapterDataType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    Complex64 = 14,
    Complex128 = 15,
    BFloat16 = 16,
}
#pragma warning restore CA1720
