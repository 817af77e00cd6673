using System.Text.Json.Nodes;
using PeftOnnx.Training.Encoder;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Methods.PromptTuning;

/// <summary>Prompt tuning: a trained prompt of virtual input embeddings (key prompt_embeddings) plus the classifier.</summary>
public sealed class PromptTuningMethod(PromptTuningConfig config) : PeftMethod
{
    /// <summary>Where the prompt lives in the classification model (its parameter is prompt_encoder.embedding.weight).</summary>
    public const string ModuleName = "prompt_encoder";

    public PromptTuningConfig Config { get; } = config;

    public override string Name => "prompt";

    public override string PeftType => "PROMPT_TUNING";

    protected override void Inject(BertForSequenceClassification model)
    {
        Config.Validate();
        var hidden = model.Bert.Config.HiddenSize;
        var prompt = new PromptEmbedding(Config.NumVirtualTokens, hidden);
        if (Config.Init == "SAMPLE_VOCAB")
        {
            using var _ = no_grad();
            var vocab = model.Bert.Embeddings.WordEmbeddingTable;
            using var rows = randint(vocab.shape[0], [Config.NumVirtualTokens], dtype: ScalarType.Int64);
            using var sampled = vocab.index_select(0, rows);
            prompt.Table.copy_(sampled);
        }
        model.AttachVirtualTokens(ModuleName, prompt);
    }

    public override JsonObject ConfigFields(BertConfig config) => new()
    {
        ["num_virtual_tokens"] = Config.NumVirtualTokens,
        ["token_dim"] = config.HiddenSize,
        ["num_transformer_submodules"] = 1,
        ["num_attention_heads"] = config.NumAttentionHeads,
        ["num_layers"] = config.NumHiddenLayers,
        ["prompt_tuning_init"] = Config.Init,
    };

    // PEFT saves prompt learning as the bare prompt table plus base_model.<module to save>.
    public override string AdapterKey(string parameterName) =>
        parameterName == ModuleName + ".embedding.weight" ? "prompt_embeddings" : "base_model." + parameterName;

    public override string? ParameterName(string adapterKey) =>
        adapterKey == "prompt_embeddings" ? ModuleName + ".embedding.weight"
        : adapterKey.StartsWith("base_model.", StringComparison.Ordinal) ? adapterKey["base_model.".Length..]
        : null;
}
