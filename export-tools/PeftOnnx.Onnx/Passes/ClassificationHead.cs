using PeftOnnx.Core.Numerics;

namespace PeftOnnx.Onnx.Passes;

/// <summary>
/// A sequence-classification head to append to an encoder: classifier weight [labels, hidden] (torch layout),
/// bias [labels], the label names, and how to pool the token states first.
/// </summary>
public sealed record ClassificationHead(Matrix64 Weight, double[] Bias, IReadOnlyList<string> Labels, HeadPooling Pooling)
{
    /// <summary>Multi-label: probabilities are one sigmoid per label instead of a softmax over the labels.</summary>
    public bool MultiLabel { get; init; }

    public int LabelCount => Weight.Rows;
    public int Hidden => Weight.Cols;
}

public enum HeadPooling
{
    /// <summary>BertForSequenceClassification: tanh(pooler.dense(h[:, 0])), the base graph's pooler output.</summary>
    Pooler,

    /// <summary>Mean of the token states under the attention mask, for encoders exported without a pooler.</summary>
    Mean,
}
