namespace PeftOnnx.Runtime.Scoring;

/// <summary>How the per-window outputs of a long document combine into one result.</summary>
public enum WindowAggregation
{
    /// <summary>Element-wise mean of the windows' logits (or embeddings).</summary>
    Mean,

    /// <summary>Element-wise maximum: a class wins if any part of the document is strongly about it.</summary>
    Max,

    /// <summary>Only the first window, as a truncating classifier would.</summary>
    First,
}
