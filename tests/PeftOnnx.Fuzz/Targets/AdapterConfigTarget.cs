using PeftOnnx.Core.Adapters;

namespace PeftOnnx.Fuzz.Targets;

/// <summary>A PEFT adapter_config.json: <see cref="PeftAdapterConfig.Load"/> (parse, pick the method by peft_type, validate).</summary>
public sealed class AdapterConfigTarget : FuzzTarget
{
    private readonly ScratchFolder _scratch = new("adapter-config");

    public override string Name => "adapter-config";

    public override string Description => "a PEFT adapter_config.json";

    public override void Run(ReadOnlySpan<byte> input) =>
        PeftAdapterConfig.Load(_scratch.Write(PeftAdapterConfig.FileName, input));

    /// <summary>PeftAdapterConfig reports bad JSON, unknown types and invalid values as InvalidDataException.</summary>
    public override bool IsOwnFormatError(Exception exception) => exception is InvalidDataException;
}
