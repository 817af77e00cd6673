namespace PeftOnnx.Core.Adapters.Fusion;

/// <summary>
/// One adapter of a fusion, as adapter_config.json lists it: its name (its folder under <c>adapters/</c> of the fusion
/// folder) and the sha256 of its adapter_model.safetensors, so a swapped or edited copy is refused.
/// </summary>
public sealed record FusedAdapter(string Name, string Sha256);
