using System.Text.Json.Nodes;
using PeftOnnx.Training.Encoder;

namespace PeftOnnx.Training.Methods.PrefixTuning;

/// <summary>Prefix tuning: trained keys and values prepended in every layer (key prompt_embeddings) plus the classifier.</summary>
public sealed class PrefixTuningMethod(PrefixTuningConfig config) : PeftMethod
{
    public const string ModuleName = "prefix_encoder";

    public PrefixTuningConfig Config { get; } = config;

    public override string Name => "prefix";

    public override string PeftType => "PREFIX_TUNING";

    protected override void Inject(BertForSequenceClassification model)
    {
        Config.Validate();
        model.AttachVirtualTokens(ModuleName, new PrefixEncoder(Config.NumVirtualTokens, model.Bert.Config));
    }

    public override JsonObject ConfigFields(BertConfig config) => new()
    {
        ["num_virtual_tokens"] = Config.NumVirtualTokens,
        ["token_dim"] = config.HiddenSize,
        ["encoder_hidden_size"] = config.HiddenSize,
        ["num_transformer_submodules"] = 1,
        ["num_attention_heads"] = config.NumAttentionHeads,
        ["num_layers"] = config.NumHiddenLayers,
        ["prefix_projection"] = false,
    };

    public override string AdapterKey(string parameterName) =>
        parameterName == ModuleName + ".embedding.weight" ? "prompt_embeddings" : "base_model." + parameterName;

    public override string? ParameterName(string adapterKey) =>
        adapterKey == "prompt_embeddings" ? ModuleName + ".embedding.weight"
        : adapterKey.StartsWith("base_model.", StringComparison.Ordinal) ? adapterKey["base_model.".Length..]
        : null;
}
