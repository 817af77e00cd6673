using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.PrefixTuning;
using PeftOnnx.Training.Encoder;

namespace PeftOnnx.Training.Methods.PrefixTuning;

/// <summary>Prefix tuning: trained keys and values prepended in every layer (key prompt_embeddings) plus the classifier.</summary>
public sealed class PrefixTuningMethod : PeftMethod
{
    public const string ModuleName = "prefix_encoder";

    public static TrainerMethod Trainer { get; } = TrainerMethod.ForConfig<PrefixTuningConfig>(["prefix"],
        (_, s, encoder) => new PrefixTuningMethod(ConfigFor(encoder, s.VirtualTokens)), config => new PrefixTuningMethod(config)) with { LearningRate = 1e-2 };

    public PrefixTuningMethod(PrefixTuningConfig config)
    {
        config.Validate();
        if (config.PrefixProjection)
            throw new ArgumentException("prefix_projection (the MLP re-parametrisation) is not supported by the trainer; set it to false.");
        Config = config;
    }

    public PrefixTuningConfig Config { get; }

    public override string Name => "prefix";

    protected override void Inject(BertForSequenceClassification model)
    {
        var c = model.Bert.Config;
        if (Config.NumLayers != c.NumHiddenLayers || Config.TokenDim != c.HiddenSize || Config.NumAttentionHeads != c.NumAttentionHeads)
            throw new ArgumentException($"the prefix config ({Config.NumLayers} layers, token_dim {Config.TokenDim}, {Config.NumAttentionHeads} heads) does not fit the encoder ({c.NumHiddenLayers} layers, hidden {c.HiddenSize}, {c.NumAttentionHeads} heads).");
        model.AttachVirtualTokens(ModuleName, new PrefixEncoder(Config.NumVirtualTokens, c));
    }

    public override PeftAdapterConfig AdapterConfig(BertConfig config) => Config with { TaskType = TaskType, ModulesToSave = ModulesToSave };

    public override string AdapterKey(string parameterName) =>
        parameterName == ModuleName + ".embedding.weight" ? PeftKeys.PromptEmbeddings : PeftKeys.PromptRoot + parameterName;

    public override string? ParameterName(string adapterKey) =>
        adapterKey == PeftKeys.PromptEmbeddings ? ModuleName + ".embedding.weight"
        : adapterKey.StartsWith(PeftKeys.PromptRoot, StringComparison.Ordinal) ? adapterKey[PeftKeys.PromptRoot.Length..]
        : null;

    public static PrefixTuningConfig ConfigFor(BertConfig encoder, int virtualTokens) => new()
    {
        NumVirtualTokens = virtualTokens,
        TokenDim = encoder.HiddenSize,
        NumLayers = encoder.NumHiddenLayers,
        NumAttentionHeads = encoder.NumAttentionHeads,
        EncoderHiddenSize = encoder.HiddenSize,
    };
}
