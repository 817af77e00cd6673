using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Encoder;

/// <summary>
/// BERT with a linear classifier on a pooled vector (Hugging Face BertForSequenceClassification:
/// fields bert, dropout, classifier, so parameter names are bert.… and classifier.…).
/// </summary>
public sealed class BertForSequenceClassification : nn.Module
{
    private readonly BertModel bert;
    private readonly FastDropout dropout;
    private readonly Linear classifier;

    /// <param name="multiLabel">transformers' problem_type multi_label_classification: one sigmoid per label, trained with binary cross-entropy.</param>
    public BertForSequenceClassification(BertConfig config, int numLabels, Pooling pooling = Pooling.Pooler, bool multiLabel = false) : base(nameof(BertForSequenceClassification))
    {
        if (numLabels < 2)
            throw new ArgumentOutOfRangeException(nameof(numLabels), numLabels, "a classifier needs at least 2 labels.");
        bert = new BertModel(config);
        dropout = new FastDropout(config.HiddenDropoutProb);
        classifier = nn.Linear(config.HiddenSize, numLabels);
        // transformers' _init_weights: classifier weight ~ N(0, 0.02), bias 0.
        using (no_grad())
        {
            nn.init.normal_(classifier.weight!, 0, 0.02);
            nn.init.zeros_(classifier.bias!);
        }
        NumLabels = numLabels;
        Pooling = pooling;
        MultiLabel = multiLabel;
        RegisterComponents();
    }

    public BertModel Bert => bert;

    public int NumLabels { get; }

    public Pooling Pooling { get; }

    /// <summary>Independent labels (sigmoid + binary cross-entropy) instead of one class (softmax + cross-entropy).</summary>
    public bool MultiLabel { get; }

    /// <summary>The training loss of <paramref name="logits"/> (B, labels) against class ids (B) or multi-label 0/1 targets (B, labels).</summary>
    public Tensor Loss(Tensor logits, Tensor labels) => MultiLabel
        ? nn.functional.binary_cross_entropy_with_logits(logits, labels)
        : nn.functional.cross_entropy(logits, labels);

    /// <summary>Prompt tuning / prefix tuning's virtual-token source; null otherwise.</summary>
    public IVirtualTokenSource? VirtualTokenSource { get; private set; }

    /// <summary>Registers prompt tuning's or prefix tuning's module (its parameters become <paramref name="name"/>.…).</summary>
    public void AttachVirtualTokens<TSource>(string name, TSource source) where TSource : nn.Module, IVirtualTokenSource
    {
        if (VirtualTokenSource is not null)
            throw new InvalidOperationException("this model already has virtual tokens; prompt tuning and prefix tuning cannot be combined.");
        register_module(name, source);
        VirtualTokenSource = source;
    }

    /// <returns>logits (B, labels)</returns>
    public Tensor forward(EncoderBatch batch)
    {
        using var scope = NewDisposeScope();
        var virtualTokens = VirtualTokenSource?.Create(batch.Size);
        var (hidden, mask) = bert.forward(batch, virtualTokens);
        var pooled = Pooling switch
        {
            Pooling.Pooler => bert.Pool(hidden),
            // (B, T, H) * (B, T, 1) summed over T, divided by the token count (B, 1).
            _ => (hidden * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim: true).clamp_min(1e-9),
        };
        return classifier.forward(dropout.forward(pooled)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            bert.Dispose();
            dropout.Dispose();
            classifier.Dispose();
            (VirtualTokenSource as IDisposable)?.Dispose();
        }
        base.Dispose(disposing);
    }
}
