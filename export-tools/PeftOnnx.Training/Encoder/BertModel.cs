using TorchSharp;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Encoder;

/// <summary>The BERT encoder: embeddings, transformer blocks, pooler (Hugging Face BertModel; parameter names match its state dict).</summary>
public sealed class BertModel : nn.Module
{
    private readonly BertEmbeddings embeddings;
    private readonly BertEncoder encoder;
    private readonly BertPooler? pooler;

    public BertModel(BertConfig config) : base(nameof(BertModel))
    {
        config.Validate();
        Config = config;
        embeddings = new BertEmbeddings(config);
        encoder = new BertEncoder(config);
        pooler = config.HasPooler ? new BertPooler(config) : null;
        RegisterComponents();
    }

    public BertConfig Config { get; }

    public BertEmbeddings Embeddings => embeddings;

    public BertEncoder Encoder => encoder;

    /// <summary>
    /// Runs the encoder. With prompt tuning the virtual tokens come first in the sequence (so the
    /// returned hidden states are (B, P+T, H) and position 0 is the first virtual token); with prefix
    /// tuning they only extend every layer's keys and values, and real tokens start at position P.
    /// </summary>
    /// <returns>last_hidden_state (B, T', H) and the attention mask over those T' positions (B, T') as float.</returns>
    public (Tensor Hidden, Tensor Mask) forward(EncoderBatch batch, VirtualTokens? virtualTokens = null)
    {
        using var scope = NewDisposeScope();
        var batchSize = batch.Size;
        var inputs = embeddings.WordEmbeddings(batch.InputIds); // (B, T, H)
        var tokenTypes = batch.TokenTypeIds;
        var mask = batch.AttentionMask.to_type(ScalarType.Float32); // (B, T)
        var keyMask = mask;
        long positionOffset = 0;
        if (virtualTokens?.Prompt is { } prompt)
        {
            var p = prompt.shape[1];
            inputs = cat([prompt, inputs], 1); // (B, P+T, H)
            tokenTypes = cat([zeros(batchSize, p, dtype: ScalarType.Int64, device: tokenTypes.device), tokenTypes], 1);
            mask = cat([ones(batchSize, p, dtype: ScalarType.Float32, device: mask.device), mask], 1); // (B, P+T)
            keyMask = mask;
        }
        else if (virtualTokens?.Prefixes is { } prefixes)
        {
            positionOffset = prefixes[0].Key.shape[2];
            keyMask = cat([ones(batchSize, positionOffset, dtype: ScalarType.Float32, device: mask.device), mask], 1); // (B, P+T)
        }
        var x = embeddings.forward(inputs, tokenTypes, positionOffset);
        // Additive mask over keys (B, 1, 1, S): 0 for visible keys, float32's most negative value for padding (as transformers does).
        var additive = ((1.0f - keyMask) * float.MinValue).view(batchSize, 1, 1, keyMask.shape[1]);
        var hidden = encoder.forward(x, additive, virtualTokens?.Prefixes);
        return (hidden.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
    }

    /// <summary>tanh(dense(h[:, 0])).</summary>
    public Tensor Pool(Tensor hidden) => (pooler ?? throw new InvalidOperationException(
        "This base model has no pooler (pooler.dense): pool with --pooling mean, or import a checkpoint saved with its pooler.")).forward(hidden);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            embeddings.Dispose();
            encoder.Dispose();
            pooler?.Dispose();
        }
        base.Dispose(disposing);
    }
}
