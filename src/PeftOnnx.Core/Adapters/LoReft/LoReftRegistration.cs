namespace PeftOnnx.Core.Adapters.LoReft;

/// <summary>LoReFT in the method registry: it edits hidden states at chosen positions, which no weight can hold (side graphs only).</summary>
public static class LoReftRegistration
{
    public static AdapterMethod Method { get; } = AdapterMethod.Create<LoReftConfig>(LoReftConfig.TypeName) with
    {
        TensorParameters = [LoReftConfig.Projection, LoReftConfig.SourceWeight, LoReftConfig.SourceBias],
    };
}
