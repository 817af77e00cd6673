namespace PeftOnnx.Onnx.Modules;

/// <summary>How a linear module's weight initializer is laid out.</summary>
public enum WeightLayout
{
    /// <summary>[in, out]: a MatMul weight (y = x·W), the transpose of torch's Linear weight.</summary>
    InOut,
    /// <summary>[out, in]: torch's own Linear layout, used by Gemm with transB=1 and by MatMul behind a Transpose.</summary>
    OutIn,
}
