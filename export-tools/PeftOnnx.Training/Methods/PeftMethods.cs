using PeftOnnx.Core.Adapters;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Methods.Baselines;
using PeftOnnx.Training.Methods.Bottleneck;
using PeftOnnx.Training.Methods.Fusion;
using PeftOnnx.Training.Methods.GatedPrompt;
using PeftOnnx.Training.Methods.Ia3;
using PeftOnnx.Training.Methods.Lora;
using PeftOnnx.Training.Methods.LoReft;
using PeftOnnx.Training.Methods.PrefixTuning;
using PeftOnnx.Training.Methods.PromptTuning;
using PeftOnnx.Training.Methods.Stack;

namespace PeftOnnx.Training.Methods;

/// <summary>
/// The trainer's registry of methods: a method is its folder under Methods/ plus one line here. The train command's
/// --method choices, default learning rates and the adapter loader read it; nothing else switches on the method.
/// </summary>
public static class PeftMethods
{
    private static readonly TrainerMethod[] Registered =
    [
        LoraMethod.Trainer,
        Ia3Method.Trainer,
        BottleneckMethod.Trainer,
        PromptTuningMethod.Trainer,
        PrefixTuningMethod.Trainer,
        LoReftMethod.Trainer,
        GatedPromptMethod.Trainer,
        FusionMethod.Trainer,
        StackMethod.Trainer,
        LinearProbeMethod.Trainer,
        FullFineTuningMethod.Trainer,
    ];

    /// <summary>Every --method name, in registration order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Registered.SelectMany(m => m.Names)];

    /// <summary>The method named <paramref name="name"/> (a --method value) with <paramref name="settings"/>.</summary>
    public static PeftMethod Create(string name, MethodSettings settings, BertConfig encoder)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var method = Named(name);
        if (settings.StackOn.Count > 0 && !method.Stacks)
            throw new ArgumentException($"--stack-on trains a bottleneck adapter on top of frozen ones ({string.Join(" or ", Registered.Where(m => m.Stacks).SelectMany(m => m.Names).Select(n => $"--method {n}"))}); --method {name} does not stack.");
        return method.Create(name, settings, encoder);
    }

    /// <summary>The learning rate for <paramref name="name"/> when --lr is not given.</summary>
    public static double DefaultLearningRate(string name) => Named(name).LearningRate;

    /// <summary>The method that trains (or reproduces) an adapter described by an adapter_config.json.</summary>
    public static PeftMethod FromConfig(PeftAdapterConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var method = Registered.FirstOrDefault(m => m.ConfigType == config.GetType())
            ?? throw new NotSupportedException(
                $"peft_type {config.PeftType} has no trainer method; trainable types: " +
                $"{string.Join(", ", AdapterMethods.All.Where(a => Registered.Any(m => m.ConfigType == a.ConfigType)))}.");
        return method.FromConfig!(config);
    }

    private static TrainerMethod Named(string name) =>
        Registered.FirstOrDefault(m => m.Names.Contains(name, StringComparer.Ordinal))
        ?? throw new ArgumentException($"--method '{name}' is not one of {string.Join(", ", Names)}.", nameof(name));
}
