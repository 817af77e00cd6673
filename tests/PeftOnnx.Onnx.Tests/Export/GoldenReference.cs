using PeftOnnx.Core.SafeTensors;
using PeftOnnx.Tests;

namespace PeftOnnx.Onnx.Tests.Export;

/// <summary>tests/fixtures/peft/&lt;case&gt;/reference.safetensors: the inputs (4 texts padded to 35 tokens) and PyTorch's output.</summary>
internal sealed record GoldenReference(long[] InputIds, long[] AttentionMask, long[] TokenTypeIds, long[] InputShape, float[] Expected, long[] ExpectedShape)
{
    public static GoldenReference Load(string caseName)
    {
        using var f = SafeTensorFile.Open(TestPaths.Fixture("peft", caseName, "reference.safetensors"));
        var expected = f.Contains("expected_logits") ? "expected_logits" : "expected_last_hidden_state";
        return new GoldenReference(
            f.ReadInt64("input_ids"), f.ReadInt64("attention_mask"), f.ReadInt64("token_type_ids"), f["input_ids"].Shape,
            f.ReadFloat32(expected), f[expected].Shape);
    }

    public static double MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
            throw new ArgumentException($"lengths differ: {a.Length} vs {b.Length}");
        var max = 0.0;
        for (var i = 0; i < a.Length; i++)
            max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        return max;
    }
}
