namespace PeftOnnx.Training.Encoder;

/// <summary>How a sequence becomes one vector for the classifier.</summary>
public enum Pooling
{
    /// <summary>BertForSequenceClassification: tanh(pooler.dense(h[:, 0])).</summary>
    Pooler,

    /// <summary>Mean of the hidden states over unmasked positions (sentence-transformers style).</summary>
    Mean,
}
