using PeftOnnx.Training.Encoder;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Methods.PromptTuning;

/// <summary>
/// The learned prompt (PEFT's prompt_embeddings, [P, H]): input embeddings prepended to every
/// sequence; the model pools the first virtual token.
/// </summary>
public sealed class PromptEmbedding : nn.Module, IVirtualTokenSource
{
    private readonly Embedding embedding;

    public PromptEmbedding(int numVirtualTokens, int hiddenSize) : base(nameof(PromptEmbedding))
    {
        embedding = nn.Embedding(numVirtualTokens, hiddenSize);
        RegisterComponents();
    }

    public Parameter Table => embedding.weight!;

    public VirtualTokens Create(long batchSize)
    {
        var p = Table.shape[0];
        return new VirtualTokens(Table.unsqueeze(0).expand(batchSize, p, Table.shape[1]), null); // (B, P, H)
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            embedding.Dispose();
        base.Dispose(disposing);
    }
}
