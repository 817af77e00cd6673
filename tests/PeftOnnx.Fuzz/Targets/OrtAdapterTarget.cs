using PeftOnnx.Core.OrtAdapters;

namespace PeftOnnx.Fuzz.Targets;

/// <summary>An ONNX Runtime <c>.onnx_adapter</c> file: <see cref="OrtAdapterFile.Parse"/>, then every FLOAT parameter's values.</summary>
public sealed class OrtAdapterTarget : FuzzTarget
{
    public override string Name => "onnx-adapter";

    public override string Description => "an ONNX Runtime .onnx_adapter file (FlatBuffers)";

    public override void Run(ReadOnlySpan<byte> input)
    {
        var adapter = OrtAdapterFile.Parse(input.ToArray(), "fuzz.onnx_adapter");
        foreach (var parameter in adapter.Parameters)
        {
            if (parameter.DataType == OrtAdapterDataType.Float)
                parameter.ToFloat32();
        }
    }

    /// <summary>OrtAdapterFile's one format exception.</summary>
    public override bool IsOwnFormatError(Exception exception) => exception is InvalidDataException;
}
