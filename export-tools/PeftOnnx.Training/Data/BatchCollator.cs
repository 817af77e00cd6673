using PeftOnnx.Training.Encoder;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Data;

/// <summary>
/// Pads a batch to its longest row and makes the (B, T) int64 tensors and the label tensor: (B) class ids, or for
/// multi-label examples (B, labels) float 0/1 targets.
/// </summary>
public static class BatchCollator
{
    /// <param name="labelCount">The number of labels; needed for multi-label examples only.</param>
    public static (EncoderBatch Batch, Tensor Labels) Collate(IReadOnlyList<TokenizedExample> examples, IReadOnlyList<int> indices, int padId, Device device, int labelCount = 0)
    {
        var rows = indices.Count;
        var length = indices.Max(i => examples[i].Length);
        var ids = new long[rows * length];
        var mask = new long[rows * length];
        var labels = new long[rows];
        for (var r = 0; r < rows; r++)
        {
            var example = examples[indices[r]];
            var offset = r * length;
            for (var t = 0; t < length; t++)
            {
                var real = t < example.Length;
                ids[offset + t] = real ? example.Ids[t] : padId;
                mask[offset + t] = real ? 1 : 0;
            }
            labels[r] = example.Label;
        }
        long[] shape = [rows, length];
        var targets = examples[indices[0]].LabelIds is null ? null : MultiHot(examples, indices, labelCount);
        var batch = new EncoderBatch(
            tensor(ids, shape, device: device),
            tensor(mask, shape, device: device),
            zeros(shape, dtype: ScalarType.Int64, device: device));
        return (batch, targets is null ? tensor(labels, device: device) : tensor(targets, [rows, labelCount], device: device));
    }

    private static float[] MultiHot(IReadOnlyList<TokenizedExample> examples, IReadOnlyList<int> indices, int labelCount)
    {
        if (labelCount < 1)
            throw new ArgumentOutOfRangeException(nameof(labelCount), labelCount, "multi-label examples need the label count.");
        var targets = new float[indices.Count * labelCount]; // (B, labels)
        for (var r = 0; r < indices.Count; r++)
        {
            foreach (var id in examples[indices[r]].LabelIds ?? throw new ArgumentException($"example {indices[r]} has no label list, but the batch is multi-label."))
                targets[(r * labelCount) + id] = 1;
        }
        return targets;
    }
}
