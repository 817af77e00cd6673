using PeftOnnx.Training.Encoder;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Methods.PrefixTuning;

/// <summary>
/// Prefix tuning's table (PEFT's prompt_embeddings, [P, layers·2·H]): already-projected, head-split keys
/// and values prepended in every layer. Layout per PEFT's get_prompt: row t holds, for layer i and
/// kv ∈ {key, value}, the slice ((2i + kv)·heads + h)·headDim + d.
/// </summary>
public sealed class PrefixEncoder : nn.Module, IVirtualTokenSource
{
    private readonly Embedding embedding;
    private readonly int layers;
    private readonly int heads;
    private readonly int headDim;

    public PrefixEncoder(int numVirtualTokens, BertConfig config) : base(nameof(PrefixEncoder))
    {
        layers = config.NumHiddenLayers;
        heads = config.NumAttentionHeads;
        headDim = config.HeadDim;
        embedding = nn.Embedding(numVirtualTokens, layers * 2 * config.HiddenSize);
        RegisterComponents();
    }

    public Parameter Table => embedding.weight!;

    public VirtualTokens Create(long batchSize)
    {
        var p = Table.shape[0];
        var kv = Table.view(1, p, 2 * layers, heads, headDim)  // (1, P, 2L, heads, d)
            .permute(2, 0, 3, 1, 4)                           // (2L, 1, heads, P, d)
            .expand(2 * layers, batchSize, heads, p, headDim); // (2L, B, heads, P, d)
        var prefixes = new (Tensor Key, Tensor Value)[layers];
        for (var i = 0; i < layers; i++)
            prefixes[i] = (kv[2 * i], kv[2 * i + 1]);
        return new VirtualTokens(null, prefixes);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            embedding.Dispose();
        base.Dispose(disposing);
    }
}
