using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Benchmarking;

/// <summary>
/// Compares each variant's outputs with the reference variant's on one batch (max abs diff per shared output), so a
/// faster variant (fused, fp16, int8) is shown to compute the same thing. A <c>sentence_embedding</c> output is
/// compared with the reference's last_hidden_state, mean-pooled over the mask and L2-normalised in C#.
/// </summary>
public static class OutputParity
{
    public const string LastHiddenState = "last_hidden_state";
    public const string SentenceEmbedding = "sentence_embedding";

    public static IReadOnlyList<string> Compare(IReadOnlyList<IBenchTarget> targets, TokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(batch);
        var lines = new List<string>();
        targets[0].Prepare(batch);
        var reference = new Dictionary<string, float[]>(targets[0].ReadOutputs(), StringComparer.Ordinal);
        if (reference.TryGetValue(LastHiddenState, out var hidden) && !reference.ContainsKey(SentenceEmbedding))
        {
            var width = hidden.Length / batch.ElementCount;
            var pooled = Pooling.Mean(hidden, batch.AttentionMask.AsSpan(0, batch.ElementCount), batch.BatchSize, batch.SequenceLength, width);
            foreach (var row in pooled)
                Pooling.L2Normalize(row);
            reference[SentenceEmbedding] = [.. pooled.SelectMany(r => r)];
        }
        for (var t = 1; t < targets.Count; t++)
        {
            IReadOnlyDictionary<string, float[]> outputs;
            try
            {
                targets[t].Prepare(batch);
                outputs = targets[t].ReadOutputs();
            }
            catch (Exception e) when (e is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or InvalidOperationException or DllNotFoundException)
            {
                lines.Add($"parity {targets[t].Name}: could not run ({e.Message.Split('\n')[0]})");
                continue;
            }
            var shared = outputs.Where(o => reference.ContainsKey(o.Key) && reference[o.Key].Length == o.Value.Length).ToList();
            if (shared.Count == 0)
            {
                lines.Add($"parity {targets[t].Name} vs {targets[0].Name} (batch {batch.BatchSize} x {batch.SequenceLength}): no host output to compare");
                continue;
            }
            var diffs = shared.Select(o => $"{o.Key} {MaxAbsDiff(reference[o.Key], o.Value):E2}");
            lines.Add($"parity {targets[t].Name} vs {targets[0].Name} (batch {batch.BatchSize} x {batch.SequenceLength}), max abs diff: {string.Join(", ", diffs)}");
        }
        return lines;
    }

    private static double MaxAbsDiff(float[] a, float[] b)
    {
        double max = 0;
        for (var i = 0; i < a.Length; i++)
            max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        return max;
    }
}
