using PeftOnnx.Core.Adapters.Bottleneck;
using PeftOnnx.Core.Adapters.Fusion;
using PeftOnnx.Core.Adapters.GatedPrompt;
using PeftOnnx.Core.Adapters.Ia3;
using PeftOnnx.Core.Adapters.Lora;
using PeftOnnx.Core.Adapters.LoReft;
using PeftOnnx.Core.Adapters.PrefixTuning;
using PeftOnnx.Core.Adapters.PromptTuning;
using PeftOnnx.Core.Adapters.Stack;

namespace PeftOnnx.Core.Adapters;

/// <summary>
/// The registry of adapter methods: a method is its folder under Adapters/ plus one line here. Config parsing, key
/// parsing, the merge and every "supported types" message read it; nothing else switches on the method type.
/// </summary>
public static class AdapterMethods
{
    private static readonly AdapterMethod[] Registered =
    [
        LoraRegistration.Method,
        Ia3Registration.Method,
        PromptTuningRegistration.Method,
        PrefixTuningRegistration.Method,
        BottleneckRegistration.Method,
        LoReftRegistration.Method,
        GatedPromptRegistration.Method,
        FusionRegistration.Method,
        StackRegistration.Method,
    ];

    private static readonly Dictionary<string, AdapterMethod> ByType = Registered.ToDictionary(m => m.PeftType, StringComparer.Ordinal);

    /// <summary>Every method's tensor parameter names, longest first (so "lora_magnitude_vector.weight" wins over its suffix).</summary>
    private static readonly string[] Parameters =
        [.. Registered.SelectMany(m => m.TensorParameters.Concat(m.ParameterAliases.Keys)).Distinct(StringComparer.Ordinal).OrderByDescending(p => p.Length)];

    public static IReadOnlyList<AdapterMethod> All => Registered;

    public static IReadOnlyCollection<string> PeftTypes => ByType.Keys;

    public static AdapterMethod? Find(string peftType) => ByType.GetValueOrDefault(peftType);

    /// <summary>The method of a parsed config (always registered: configs are only made through the registry's types).</summary>
    public static AdapterMethod Of(PeftAdapterConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Find(config.PeftType) ?? throw new NotSupportedException($"peft_type {config.PeftType} is not registered; registered types: {Describe(_ => true)}.");
    }

    /// <summary>"LORA (incl. DoRA), IA3": the methods that pass <paramref name="filter"/>, for messages.</summary>
    public static string Describe(Func<AdapterMethod, bool> filter) => string.Join(", ", Registered.Where(filter));

    /// <summary>Splits "&lt;module&gt;.&lt;parameter&gt;" by a registered parameter name; null when none ends the path.</summary>
    public static (string Module, string Parameter)? SplitParameter(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        foreach (var parameter in Parameters)
        {
            if (path.EndsWith("." + parameter, StringComparison.Ordinal))
                return (path[..^(parameter.Length + 1)], Canonical(parameter));
        }
        return null;
    }

    /// <summary>Whether <paramref name="parameter"/> is a tensor an adapter method adds (not a base or head weight).</summary>
    public static bool IsMethodParameter(string parameter) => Parameters.Contains(parameter, StringComparer.Ordinal);

    private static string Canonical(string parameter)
    {
        foreach (var method in Registered)
        {
            if (method.ParameterAliases.TryGetValue(parameter, out var canonical))
                return canonical;
        }
        return parameter;
    }
}
