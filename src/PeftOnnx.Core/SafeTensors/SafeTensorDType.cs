namespace PeftOnnx.Core.SafeTensors;

/// <summary>Element types of the safetensors format, named as in its header ("F32", "BF16", ...).</summary>
public enum SafeTensorDType
{
    F64,
    F32,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
}

public static class SafeTensorDTypes
{
    public static int ElementSize(this SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.F64 or SafeTensorDType.I64 => 8,
        SafeTensorDType.F32 or SafeTensorDType.I32 => 4,
        SafeTensorDType.F16 or SafeTensorDType.BF16 or SafeTensorDType.I16 => 2,
        _ => 1,
    };

    public static string HeaderName(this SafeTensorDType dtype) => dtype == SafeTensorDType.Bool ? "BOOL" : dtype.ToString();

    public static bool TryParse(string name, out SafeTensorDType dtype)
    {
        switch (name)
        {
            case "F64": dtype = SafeTensorDType.F64; return true;
            case "F32": dtype = SafeTensorDType.F32; return true;
            case "F16": dtype = SafeTensorDType.F16; return true;
            case "BF16": dtype = SafeTensorDType.BF16; return true;
            case "I64": dtype = SafeTensorDType.I64; return true;
            case "I32": dtype = SafeTensorDType.I32; return true;
            case "I16": dtype = SafeTensorDType.I16; return true;
            case "I8": dtype = SafeTensorDType.I8; return true;
            case "U8": dtype = SafeTensorDType.U8; return true;
            case "BOOL": dtype = SafeTensorDType.Bool; return true;
            default: dtype = default; return false;
        }
    }

    public const string Supported = "F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL";
}
