namespace PeftOnnx.Core.Adapters.GatedPrompt;

/// <summary>
/// PeftOnnx's own peft_type "GATED_PROMPT": LLaMA-Adapter's zero-init gated prompts (PEFT's <c>adaption_prompt</c>,
/// peft/tuners/adaption_prompt/layer.py, decoder-only there) ported to BERT self-attention. In each of the top
/// <see cref="AdapterLayers"/> layers, <see cref="AdapterLen"/> learned prompt vectors P [K, hidden] go through the
/// layer's own key and value projections; the queries attend to them with a softmax of their own, scaled per head by
/// a gate that starts at zero, and the result is added to the attention context (before attention.output.dense, as
/// PEFT adds it before o_proj). Layout and key names: docs/ADAPTER_FORMAT.md.
/// </summary>
public sealed record GatedPromptConfig : PeftAdapterConfig
{
    public const string TypeName = "GATED_PROMPT";

    public override string PeftType => TypeName;

    /// <summary>Prompt vectors per layer (PEFT's adapter_len).</summary>
    public int AdapterLen { get; init; } = 10;

    /// <summary>How many of the top layers carry prompts (PEFT's adapter_layers).</summary>
    public int AdapterLayers { get; init; } = 6;

    public override void Validate()
    {
        if (AdapterLen <= 0)
            throw Invalid($"`adapter_len` should be positive, got {AdapterLen}");
        if (AdapterLayers <= 0)
            throw Invalid($"`adapter_layers` should be positive, got {AdapterLayers}");
    }

    /// <summary>The prompted layers of an encoder with <paramref name="layerCount"/> layers: the top <see cref="AdapterLayers"/>.</summary>
    public IReadOnlyList<int> LayersOf(int layerCount)
    {
        if (AdapterLayers > layerCount)
            throw Invalid($"`adapter_layers` is {AdapterLayers}, but the encoder has {layerCount} layers");
        return [.. Enumerable.Range(layerCount - AdapterLayers, AdapterLayers)];
    }

    /// <summary>Module of a layer's prompt: <c>.adaption_prompt</c> [K, hidden] and <c>.adaption_gate</c> [heads].</summary>
    public static string PromptModule(int layer) => $"encoder.layer.{layer}.attention.self.gated_prompt";

    public const string Prompt = "adaption_prompt";
    public const string Gate = "adaption_gate";
}
