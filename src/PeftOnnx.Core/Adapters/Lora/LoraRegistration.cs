namespace PeftOnnx.Core.Adapters.Lora;

/// <summary>LoRA in the method registry: mergeable, with DoRA (use_dora) and rsLoRA as its variants, as in PEFT's tuners/lora.</summary>
public static class LoraRegistration
{
    public static AdapterMethod Method { get; } = AdapterMethod.Create<LoraConfig>(LoraConfig.TypeName, (adapter, config) => new LoraAdapterMerge(adapter, config)) with
    {
        Variants = "incl. DoRA",
        TensorParameters = ["lora_A.weight", "lora_B.weight", "lora_B.bias", "lora_magnitude_vector", "lora_embedding_A", "lora_embedding_B"],
        ParameterAliases = new Dictionary<string, string> { ["lora_magnitude_vector.weight"] = "lora_magnitude_vector" }, // PEFT before 0.14
    };
}
