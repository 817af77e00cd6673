using PeftOnnx.Training.Encoder;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Data;

/// <summary>Pads a batch to its longest row and makes the (B, T) int64 tensors and the (B) label tensor.</summary>
public static class BatchCollator
{
    public static (EncoderBatch Batch, Tensor Labels) Collate(IReadOnlyList<TokenizedExample> examples, IReadOnlyList<int> indices, int padId, Device device)
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
        var batch = new EncoderBatch(
            tensor(ids, shape, device: device),
            tensor(mask, shape, device: device),
            zeros(shape, dtype: ScalarType.Int64, device: device));
        return (batch, tensor(labels, device: device));
    }
}
