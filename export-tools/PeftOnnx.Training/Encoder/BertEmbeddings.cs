using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Encoder;

/// <summary>word + position + token-type embeddings, LayerNorm, dropout (Hugging Face BertEmbeddings).</summary>
public sealed class BertEmbeddings : nn.Module
{
    private readonly Embedding word_embeddings;
    private readonly Embedding position_embeddings;
    private readonly Embedding token_type_embeddings;
    private readonly LayerNorm LayerNorm;
    private readonly FastDropout dropout;

    public BertEmbeddings(BertConfig config) : base(nameof(BertEmbeddings))
    {
        word_embeddings = nn.Embedding(config.VocabSize, config.HiddenSize);
        position_embeddings = nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize);
        token_type_embeddings = nn.Embedding(config.TypeVocabSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        dropout = new FastDropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    /// <summary>The word embedding table [vocab, hidden] (prompt tuning samples its initial rows from it).</summary>
    public Parameter WordEmbeddingTable => word_embeddings.weight!;

    public Tensor WordEmbeddings(Tensor inputIds) => word_embeddings.forward(inputIds);

    /// <summary>
    /// Embeds <paramref name="inputsEmbeds"/> (B, T, H), already looked up (and possibly prefixed with
    /// virtual tokens), at positions offset..offset+T-1.
    /// </summary>
    /// <param name="positionOffset">Prefix tuning shifts real tokens by the number of virtual key/value slots, as BertEmbeddings does with past_key_values_length.</param>
    public Tensor forward(Tensor inputsEmbeds, Tensor tokenTypeIds, long positionOffset = 0)
    {
        using var scope = NewDisposeScope();
        var length = inputsEmbeds.shape[1];
        var positions = arange(positionOffset, positionOffset + length, dtype: ScalarType.Int64, device: inputsEmbeds.device).unsqueeze(0); // (1, T)
        var x = inputsEmbeds + position_embeddings.forward(positions) + token_type_embeddings.forward(tokenTypeIds);
        return dropout.forward(LayerNorm.forward(x)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            word_embeddings.Dispose();
            position_embeddings.Dispose();
            token_type_embeddings.Dispose();
            LayerNorm.Dispose();
            dropout.Dispose();
        }
        base.Dispose(disposing);
    }
}
