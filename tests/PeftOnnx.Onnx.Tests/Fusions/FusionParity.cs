using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace PeftOnnx.Onnx.Tests.Fusions;

/// <summary>Runs two MiniLM graphs on the same right-padded batch with ONNX Runtime's own fusions off and returns the largest output difference.</summary>
internal static class FusionParity
{
    /// <summary>Rows of different lengths (right-padded), so the mask path is exercised.</summary>
    private static readonly int[] Lengths = [128, 37, 5, 90];
    private const int Sequence = 128;

    public static double MaxAbsDiff(ModelProto reference, ModelProto fused, out string detail) =>
        MaxAbsDiff(reference, fused, GraphOptimizationLevel.ORT_DISABLE_ALL, out detail);

    /// <summary>As above, with ONNX Runtime's own graph optimizations at <paramref name="level"/> for both models.</summary>
    public static double MaxAbsDiff(ModelProto reference, ModelProto fused, GraphOptimizationLevel level, out string detail)
    {
        var expected = Run(reference, level);
        var actual = Run(fused, level);
        double max = 0;
        var parts = new List<string>();
        for (var o = 0; o < expected.Count; o++)
        {
            double diff = 0;
            for (var i = 0; i < expected[o].Length; i++)
                diff = Math.Max(diff, Math.Abs(expected[o][i] - actual[o][i]));
            parts.Add($"output {o}: {diff:E2}");
            max = Math.Max(max, diff);
        }
        detail = string.Join(", ", parts);
        return max;
    }

    /// <summary>
    /// The reference model's last_hidden_state mean-pooled over the mask and L2-normalised in C#, and the candidate's
    /// sentence_embedding output, both flattened.
    /// </summary>
    public static (float[] Reference, float[] Actual) PooledPair(ModelProto reference, ModelProto candidate)
    {
        var hidden = Run(reference, GraphOptimizationLevel.ORT_DISABLE_ALL, "last_hidden_state")[0];
        var actual = Run(candidate, GraphOptimizationLevel.ORT_DISABLE_ALL, "sentence_embedding")[0];
        var mask = Inputs().Mask;
        var width = hidden.Length / mask.Length;
        var pooled = PeftOnnx.Runtime.Inference.Pooling.Mean(hidden, mask, Lengths.Length, Sequence, width);
        foreach (var row in pooled)
            PeftOnnx.Runtime.Inference.Pooling.L2Normalize(row);
        return ([.. pooled.SelectMany(r => r)], actual);
    }

    private static (long[] Ids, long[] Mask) Inputs()
    {
        var batch = Lengths.Length;
        var ids = new long[batch * Sequence];
        var mask = new long[batch * Sequence];
        var random = new Random(7);
        for (var r = 0; r < batch; r++)
        {
            for (var t = 0; t < Lengths[r]; t++)
            {
                ids[(r * Sequence) + t] = t == 0 ? 101 : random.Next(1000, 30000);
                mask[(r * Sequence) + t] = 1;
            }
        }
        return (ids, mask);
    }

    private static List<float[]> Run(ModelProto model, GraphOptimizationLevel level, params string[] only)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = level };
        using var session = new InferenceSession(model.ToByteArray(), options);
        var batch = Lengths.Length;
        var (ids, mask) = Inputs();
        long[] shape = [batch, Sequence];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
        using var typesValue = OrtValue.CreateTensorValueFromMemory(new long[batch * Sequence], shape);
        var outputNames = only.Length > 0 ? only : session.OutputMetadata.Keys.ToArray();
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, ["input_ids", "attention_mask", "token_type_ids"], [idsValue, maskValue, typesValue], outputNames);
        return [.. outputs.Select(o => o.GetTensorDataAsSpan<float>().ToArray())];
    }
}
