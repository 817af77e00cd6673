namespace PeftOnnx.Training.Data;

/// <summary>
/// A document as token ids ([CLS] … [SEP], truncated to the max length) and its class id; a multi-label document
/// has its class ids in <see cref="LabelIds"/> (maybe none) and <see cref="Label"/> -1.
/// </summary>
public sealed record TokenizedExample(int[] Ids, int Label, int[]? LabelIds = null)
{
    public int Length => Ids.Length;
}
