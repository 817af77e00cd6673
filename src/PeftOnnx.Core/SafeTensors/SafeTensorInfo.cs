namespace PeftOnnx.Core.SafeTensors;

/// <summary>One tensor's header entry: dtype, shape and byte range relative to the start of the data section.</summary>
public sealed record SafeTensorInfo(string Name, SafeTensorDType DType, long[] Shape, long Begin, long End)
{
    /// <summary>Throws <see cref="OverflowException"/> when the dims multiply past long (the reader refuses such a header).</summary>
    public long ElementCount => Shape.Aggregate(1L, (n, d) => checked(n * d));

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
