namespace PeftOnnx.Training.Data;

/// <summary>A document as token ids ([CLS] … [SEP], truncated to the max length) and its class id.</summary>
public sealed record TokenizedExample(int[] Ids, int Label)
{
    public int Length => Ids.Length;
}
