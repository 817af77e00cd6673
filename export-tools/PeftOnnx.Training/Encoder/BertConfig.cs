using PeftOnnx.Core.Models;

namespace PeftOnnx.Training.Encoder;

/// <summary>Sizes of a BERT-family encoder (Hugging Face BertConfig's fields that shape the weights).</summary>
public sealed record BertConfig
{
    public int VocabSize { get; init; } = 30522;
    public int HiddenSize { get; init; } = 384;
    public int NumHiddenLayers { get; init; } = 6;
    public int NumAttentionHeads { get; init; } = 12;
    public int IntermediateSize { get; init; } = 1536;
    public int MaxPositionEmbeddings { get; init; } = 512;
    public int TypeVocabSize { get; init; } = 2;
    public double LayerNormEps { get; init; } = 1e-12;
    public double HiddenDropoutProb { get; init; } = 0.1;
    public double AttentionProbsDropoutProb { get; init; } = 0.1;
    /// <summary>gelu (erf), gelu_new (tanh approximation) or relu, as transformers' hidden_act names them.</summary>
    public string HiddenAct { get; init; } = "gelu";
    /// <summary>Whether the model has BertPooler (checkpoints saved with add_pooling_layer=False do not).</summary>
    public bool HasPooler { get; init; } = true;

    public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>The encoder described by a model manifest (models/&lt;name&gt;/model.json).</summary>
    public static BertConfig FromArchitecture(ModelArchitecture a)
    {
        var config = new BertConfig
        {
            VocabSize = a.VocabSize,
            HiddenSize = a.Hidden,
            NumHiddenLayers = a.Layers,
            NumAttentionHeads = a.Heads,
            IntermediateSize = a.Intermediate,
            MaxPositionEmbeddings = a.MaxPosition,
            LayerNormEps = a.LayerNormEps,
            TypeVocabSize = a.TypeVocabSize,
            HiddenAct = a.HiddenAct,
            HasPooler = a.Pooler,
        };
        config.Validate();
        return config;
    }

    public void Validate()
    {
        if (HiddenSize <= 0 || NumAttentionHeads <= 0 || HiddenSize % NumAttentionHeads != 0)
            throw new ArgumentException($"hidden size {HiddenSize} must be a positive multiple of the head count {NumAttentionHeads}.");
        if (NumHiddenLayers <= 0 || IntermediateSize <= 0 || VocabSize <= 0 || MaxPositionEmbeddings <= 0 || TypeVocabSize <= 0)
            throw new ArgumentException($"layers ({NumHiddenLayers}), intermediate size ({IntermediateSize}), vocab ({VocabSize}), max positions ({MaxPositionEmbeddings}) and token types ({TypeVocabSize}) must be positive.");
        if (HiddenAct is not ("gelu" or "gelu_new" or "relu"))
            throw new ArgumentException($"hidden_act '{HiddenAct}' is not supported; the encoder runs gelu, gelu_new and relu.");
    }
}
