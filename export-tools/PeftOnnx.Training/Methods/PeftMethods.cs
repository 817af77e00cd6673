using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Bottleneck;
using PeftOnnx.Core.Adapters.Ia3;
using PeftOnnx.Core.Adapters.Lora;
using PeftOnnx.Core.Adapters.PrefixTuning;
using PeftOnnx.Core.Adapters.PromptTuning;
using PeftOnnx.Training.Methods.Bottleneck;
using PeftOnnx.Training.Methods.Ia3;
using PeftOnnx.Training.Methods.Lora;
using PeftOnnx.Training.Methods.PrefixTuning;
using PeftOnnx.Training.Methods.PromptTuning;

namespace PeftOnnx.Training.Methods;

/// <summary>The method that trains (or reproduces) an adapter described by an adapter_config.json.</summary>
public static class PeftMethods
{
    public static PeftMethod FromConfig(PeftAdapterConfig config) => config switch
    {
        LoraConfig lora => new LoraMethod(lora),
        Ia3Config ia3 => new Ia3Method(ia3),
        BottleneckConfig bottleneck => new BottleneckMethod(bottleneck),
        PromptTuningConfig prompt => new PromptTuningMethod(prompt),
        PrefixTuningConfig prefix => new PrefixTuningMethod(prefix),
        _ => throw new NotSupportedException($"peft_type {config.PeftType} has no trainer method."),
    };
}
