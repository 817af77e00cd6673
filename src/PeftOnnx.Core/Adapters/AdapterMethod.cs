namespace PeftOnnx.Core.Adapters;

/// <summary>
/// One adapter method as Core knows it (PEFT's <c>register_peft_method</c>): its peft_type, its adapter_config.json
/// type, the parameter names its tensors carry in adapter_model.safetensors, and its merge when it folds into the
/// base weights. Each method's folder declares one; <see cref="AdapterMethods"/> lists them.
/// </summary>
public sealed record AdapterMethod
{
    /// <summary>peft_type in adapter_config.json ("LORA").</summary>
    public required string PeftType { get; init; }

    /// <summary>The <see cref="PeftAdapterConfig"/> subtype that adapter_config.json deserializes into.</summary>
    public required Type ConfigType { get; init; }

    /// <summary>
    /// Parameter names of the method's tensors ("lora_A.weight", "ia3_l"), so keys split into module and parameter
    /// even where a parameter holds a dot; methods whose tensors end in one plain name need none.
    /// </summary>
    public IReadOnlyList<string> TensorParameters { get; init; } = [];

    /// <summary>Older spellings of a parameter and the name it is read as ("lora_magnitude_vector.weight").</summary>
    public IReadOnlyDictionary<string, string> ParameterAliases { get; init; } = new Dictionary<string, string>();

    /// <summary>How the method folds into the base's Linear layers; null when it changes the computation instead.</summary>
    public Func<PeftAdapter, IAdapterMerge>? Merge { get; init; }

    /// <summary>Shown after the type in lists of methods, e.g. "incl. DoRA".</summary>
    public string? Variants { get; init; }

    public bool Mergeable => Merge is not null;

    public override string ToString() => Variants is null ? PeftType : $"{PeftType} ({Variants})";

    /// <summary>A method whose merge takes its own config type.</summary>
    public static AdapterMethod Create<TConfig>(string peftType, Func<PeftAdapter, TConfig, IAdapterMerge>? merge = null)
        where TConfig : PeftAdapterConfig => new()
        {
            PeftType = peftType,
            ConfigType = typeof(TConfig),
            Merge = merge is null ? null : adapter => merge(adapter, (TConfig)adapter.Config),
        };
}
