using PeftOnnx.Core.SafeTensors;

namespace PeftOnnx.Fuzz.Targets;

/// <summary>A .safetensors file: <see cref="SafeTensorFile.Open"/>, then every tensor read as its dtype's family.</summary>
public sealed class SafeTensorsTarget : FuzzTarget
{
    private readonly ScratchFolder _scratch = new("safetensors");

    public override string Name => "safetensors";

    public override string Description => "a .safetensors file (adapter_model.safetensors)";

    public override void Run(ReadOnlySpan<byte> input)
    {
        using var file = SafeTensorFile.Open(_scratch.Write("adapter_model.safetensors", input));
        foreach (var tensor in file.Tensors)
        {
            if (tensor.DType is SafeTensorDType.F64 or SafeTensorDType.F32 or SafeTensorDType.F16 or SafeTensorDType.BF16)
                file.ReadFloat64(tensor.Name);
            else
                file.ReadInt64(tensor.Name);
        }
    }

    /// <summary>SafeTensorFile's documented error for a bad file.</summary>
    public override bool IsOwnFormatError(Exception exception) => exception is InvalidDataException;
}
