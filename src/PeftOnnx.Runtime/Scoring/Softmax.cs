namespace PeftOnnx.Runtime.Scoring;

/// <summary>Numerically stable softmax (subtracts the maximum before exponentiating).</summary>
public static class Softmax
{
    public static float[] Of(ReadOnlySpan<float> logits, float scale = 1f)
    {
        var max = float.NegativeInfinity;
        foreach (var v in logits)
            max = Math.Max(max, v * scale);
        var result = new float[logits.Length];
        double sum = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            var e = Math.Exp((logits[i] * scale) - max);
            result[i] = (float)e;
            sum += e;
        }
        for (var i = 0; i < result.Length; i++)
            result[i] = (float)(result[i] / sum);
        return result;
    }
}
