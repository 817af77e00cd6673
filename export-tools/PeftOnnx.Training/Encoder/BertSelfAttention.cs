using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Encoder;

/// <summary>Multi-head scaled dot-product self-attention with query/key/value projections (Hugging Face BertSelfAttention).</summary>
public sealed class BertSelfAttention : nn.Module
{
    // Adapter methods replace these with wrappers (LoRA, IA3...), hence the general module type.
    private nn.Module<Tensor, Tensor> query;
    private nn.Module<Tensor, Tensor> key;
    private nn.Module<Tensor, Tensor> value;
    private readonly int heads;
    private readonly int headDim;
    private readonly double dropoutProb;
    // Gated prompts (LLaMA-Adapter) add a gated attention over prompt keys and values to the context. Null without one.
    private nn.Module? gated_prompt;

    public BertSelfAttention(BertConfig config) : base(nameof(BertSelfAttention))
    {
        query = nn.Linear(config.HiddenSize, config.HiddenSize);
        key = nn.Linear(config.HiddenSize, config.HiddenSize);
        value = nn.Linear(config.HiddenSize, config.HiddenSize);
        heads = config.NumAttentionHeads;
        headDim = config.HeadDim;
        dropoutProb = config.AttentionProbsDropoutProb;
        RegisterComponents();
    }

    /// <param name="x">(B, T, H)</param>
    /// <param name="additiveMask">(B, 1, 1, P+T): 0 where a key is visible, a large negative value where it is padding.</param>
    /// <param name="prefix">Prefix tuning's per-layer keys and values, each (B, heads, P, headDim), or null.</param>
    public Tensor forward(Tensor x, Tensor additiveMask, (Tensor Key, Tensor Value)? prefix)
    {
        using var scope = NewDisposeScope();
        var (batch, length) = (x.shape[0], x.shape[1]);
        var q = query.forward(x).view(batch, length, heads, headDim).transpose(1, 2); // (B, heads, T, d)
        var k = key.forward(x).view(batch, length, heads, headDim).transpose(1, 2);   // (B, heads, T, d)
        var v = value.forward(x).view(batch, length, heads, headDim).transpose(1, 2); // (B, heads, T, d)
        if (prefix is { } p)
        {
            k = cat([p.Key, k], 2); // (B, heads, P+T, d)
            v = cat([p.Value, v], 2);
        }
        Tensor context;
        if (training && dropoutProb > 0)
        {
            // What scaled_dot_product_attention's math path does when it has to drop probabilities (CPU has no fused
            // kernel with dropout), with the fast dropout mask.
            var scores = q.matmul(k.transpose(-2, -1)).mul_(1.0 / Math.Sqrt(headDim)).add_(additiveMask); // (B, heads, T, P+T)
            var probabilities = FastDropout.Apply(scores.softmax(-1), dropoutProb);
            context = probabilities.matmul(v); // (B, heads, T, d)
        }
        else
        {
            context = nn.functional.scaled_dot_product_attention(q, k, v, additiveMask, 0.0, false); // (B, heads, T, d)
        }
        if (gated_prompt is IAttentionPrompt prompt)
            context = context + prompt.Attend(q, key, value); // (B, heads, T, d)
        return context.transpose(1, 2).reshape(batch, length, heads * headDim).MoveToOuterDisposeScope(); // (B, T, H)
    }

    /// <summary>Adds a prompt attention to this layer (its parameters become gated_prompt.…).</summary>
    public void AttachPrompt<TPrompt>(TPrompt prompt) where TPrompt : nn.Module, IAttentionPrompt
    {
        if (gated_prompt is not null)
            throw new InvalidOperationException("this attention already has a prompt.");
        register_module(nameof(gated_prompt), prompt);
        gated_prompt = prompt;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            query.Dispose();
            key.Dispose();
            value.Dispose();
            gated_prompt?.Dispose();
        }
        base.Dispose(disposing);
    }
}
