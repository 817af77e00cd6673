namespace PeftOnnx.Core.Adapters;

/// <summary>
/// One adapter tensor name split into the base module it belongs to and the parameter:
/// "base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight" ->
/// (Module "encoder.layer.0.attention.self.query", Parameter "lora_A.weight", InEncoder true).
/// </summary>
/// <param name="Key">The full tensor name in adapter_model.safetensors.</param>
/// <param name="Module">Module path relative to the encoder (for encoder modules) or to the task model (the head).</param>
/// <param name="Parameter">"lora_A.weight", "lora_B.weight", "lora_B.bias", "lora_magnitude_vector", "ia3_l", "weight", "bias"...</param>
/// <param name="InEncoder">True for modules of the base encoder; false for task-model modules such as the classifier.</param>
public sealed record AdapterKey(string Key, string Module, string Parameter, bool InEncoder);
