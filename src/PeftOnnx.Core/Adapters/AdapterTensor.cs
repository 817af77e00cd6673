using PeftOnnx.Core.Numerics;

namespace PeftOnnx.Core.Adapters;

/// <summary>One tensor of adapter_model.safetensors, widened to float64 for merging.</summary>
public sealed record AdapterTensor(AdapterKey Key, long[] Shape, double[] Data)
{
    public string Name => Key.Key;

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    /// <summary>The tensor as a matrix; 1-D tensors become one row ([n] -> [1, n]).</summary>
    public Matrix64 AsMatrix() => Shape.Length switch
    {
        1 => new Matrix64(1, checked((int)Shape[0]), Data),
        2 => new Matrix64(checked((int)Shape[0]), checked((int)Shape[1]), Data),
        _ => throw new InvalidDataException($"adapter tensor '{Name}' has shape {ShapeText}; expected a vector or a matrix."),
    };
}
