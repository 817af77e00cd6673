using PeftOnnx.Training.Encoder;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Methods.GatedPrompt;

/// <summary>
/// One layer's zero-init gated prompt (PEFT's AdaptedAttention, peft/tuners/adaption_prompt/layer.py): the prompt
/// P [K, H] goes through the layer's key and value projections, every query attends to those K keys with its own
/// softmax, and the result is scaled by a gate per head that starts at zero, so training starts at the base model.
/// PEFT has one gate per layer; the LLaMA-Adapter paper's code has one per head (gate (1, heads, 1, 1)), which lets
/// each head open to the prompt at its own rate for heads·layers more parameters (72 on MiniLM-L6).
/// </summary>
public sealed class GatedPromptAttention : nn.Module, IAttentionPrompt
{
    private readonly Parameter adaption_prompt;
    private readonly Parameter adaption_gate;
    private readonly int heads;
    private readonly int headDim;

    public GatedPromptAttention(int promptLength, BertConfig config) : base(nameof(GatedPromptAttention))
    {
        ArgumentNullException.ThrowIfNull(config);
        heads = config.NumAttentionHeads;
        headDim = config.HeadDim;
        adaption_prompt = nn.Parameter(randn(promptLength, config.HiddenSize)); // PEFT: empty(...).normal_()
        adaption_gate = nn.Parameter(zeros(heads));
        RegisterComponents();
    }

    public Parameter Prompt => adaption_prompt;

    public Parameter Gate => adaption_gate;

    public Tensor Attend(Tensor query, nn.Module<Tensor, Tensor> key, nn.Module<Tensor, Tensor> value)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        using var scope = NewDisposeScope();
        var length = adaption_prompt.shape[0];
        var k = key.forward(adaption_prompt).view(length, heads, headDim).permute(1, 2, 0);      // (heads, d, K)
        var v = value.forward(adaption_prompt).view(length, heads, headDim).transpose(0, 1);     // (heads, K, d)
        var scores = query.matmul(k).mul_(1.0 / Math.Sqrt(headDim));                             // (B, heads, T, K)
        var context = scores.softmax(-1).matmul(v);                                             // (B, heads, T, d)
        return (context * adaption_gate.view(1, heads, 1, 1)).MoveToOuterDisposeScope();
    }
}
