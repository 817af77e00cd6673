using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.PromptTuning;
using PeftOnnx.Training.Encoder;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Methods.PromptTuning;

/// <summary>Prompt tuning: a trained prompt of virtual input embeddings (key prompt_embeddings) plus the classifier.</summary>
public sealed class PromptTuningMethod : PeftMethod
{
    /// <summary>Where the prompt lives in the classification model (its parameter is prompt_encoder.embedding.weight).</summary>
    public const string ModuleName = "prompt_encoder";

    public static TrainerMethod Trainer { get; } = TrainerMethod.ForConfig<PromptTuningConfig>(["prompt"],
        (_, s, encoder) => new PromptTuningMethod(ConfigFor(encoder, s.VirtualTokens)), config => new PromptTuningMethod(config)) with { LearningRate = 1e-2 };

    public PromptTuningMethod(PromptTuningConfig config)
    {
        config.Validate();
        if (config.PromptTuningInit == "TEXT")
            throw new ArgumentException("prompt_tuning_init TEXT is not supported by the trainer; use SAMPLE_VOCAB or RANDOM.");
        Config = config;
    }

    public PromptTuningConfig Config { get; }

    public override string Name => "prompt";

    protected override void Inject(BertForSequenceClassification model)
    {
        var hidden = model.Bert.Config.HiddenSize;
        if (Config.TokenDim != hidden)
            throw new ArgumentException($"token_dim {Config.TokenDim} differs from the encoder's hidden size {hidden}.");
        var prompt = new PromptEmbedding(Config.NumVirtualTokens, hidden);
        if (Config.PromptTuningInit == "SAMPLE_VOCAB")
        {
            // PEFT's SAMPLE_VOCAB: start from random rows of the word embedding table.
            using var _ = no_grad();
            var vocab = model.Bert.Embeddings.WordEmbeddingTable;
            using var rows = randint(vocab.shape[0], [Config.NumVirtualTokens], dtype: ScalarType.Int64);
            using var sampled = vocab.index_select(0, rows);
            prompt.Table.copy_(sampled);
        }
        model.AttachVirtualTokens(ModuleName, prompt);
    }

    public override PeftAdapterConfig AdapterConfig(BertConfig config) => Config with { TaskType = TaskType, ModulesToSave = ModulesToSave };

    // PEFT saves prompt learning as the bare prompt table plus base_model.<module to save>.
    public override string AdapterKey(string parameterName) =>
        parameterName == ModuleName + ".embedding.weight" ? PeftKeys.PromptEmbeddings : PeftKeys.PromptRoot + parameterName;

    public override string? ParameterName(string adapterKey) =>
        adapterKey == PeftKeys.PromptEmbeddings ? ModuleName + ".embedding.weight"
        : adapterKey.StartsWith(PeftKeys.PromptRoot, StringComparison.Ordinal) ? adapterKey[PeftKeys.PromptRoot.Length..]
        : null;

    /// <summary>A prompt-tuning configuration for <paramref name="encoder"/>.</summary>
    public static PromptTuningConfig ConfigFor(BertConfig encoder, int virtualTokens, string init = "SAMPLE_VOCAB") => new()
    {
        NumVirtualTokens = virtualTokens,
        TokenDim = encoder.HiddenSize,
        NumAttentionHeads = encoder.NumAttentionHeads,
        NumLayers = encoder.NumHiddenLayers,
        PromptTuningInit = init,
    };
}
