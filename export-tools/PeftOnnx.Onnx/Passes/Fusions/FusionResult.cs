namespace PeftOnnx.Onnx.Passes.Fusions;

/// <summary>What one fusion pass did: how many patterns it fused and every near-match it left alone, with the reason.</summary>
public sealed record FusionResult(string Pass, int Fused, IReadOnlyList<string> Unhandled)
{
    public override string ToString() =>
        Unhandled.Count == 0 ? $"{Pass}: fused {Fused}" : $"{Pass}: fused {Fused}, left {Unhandled.Count} ({string.Join("; ", Unhandled)})";
}
