using PeftOnnx.Core.Adapters;
using PeftOnnx.Training.Encoder;

namespace PeftOnnx.Training.Methods;

/// <summary>
/// One method as the trainer knows it: the --method names it answers to, how it is built from the command line's
/// <see cref="MethodSettings"/> or from an adapter_config.json, and its default learning rate. Each method's folder
/// declares one; <see cref="PeftMethods"/> lists them.
/// </summary>
public sealed record TrainerMethod
{
    /// <summary>The --method names, e.g. "lora" and "dora" (DoRA is a LoRA variant).</summary>
    public required IReadOnlyList<string> Names { get; init; }

    /// <summary>Builds the method for one of <see cref="Names"/>.</summary>
    public required Func<string, MethodSettings, BertConfig, PeftMethod> Create { get; init; }

    /// <summary>The config type it trains from (null for baselines saved as whole models).</summary>
    public Type? ConfigType { get; init; }

    /// <summary>Reproduces the method from a parsed adapter_config.json of <see cref="ConfigType"/>.</summary>
    public Func<PeftAdapterConfig, PeftMethod>? FromConfig { get; init; }

    /// <summary>Whether --stack-on applies: the method trains a bottleneck adapter that can sit on top of frozen ones.</summary>
    public bool Stacks { get; init; }

    /// <summary>The learning rate used when --lr is not given (the reference runs' rates).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>A method trained from, and saved as, adapter_config.json type <typeparamref name="TConfig"/>.</summary>
    public static TrainerMethod ForConfig<TConfig>(IReadOnlyList<string> names, Func<string, MethodSettings, BertConfig, PeftMethod> create, Func<TConfig, PeftMethod> fromConfig)
        where TConfig : PeftAdapterConfig => new()
        {
            Names = names,
            Create = create,
            ConfigType = typeof(TConfig),
            FromConfig = config => fromConfig((TConfig)config),
        };
}
