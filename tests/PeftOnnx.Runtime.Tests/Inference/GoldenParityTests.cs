using PeftOnnx.Core.SafeTensors;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Tests;
using Xunit.Abstractions;

namespace PeftOnnx.Runtime.Tests.Inference;

/// <summary>
/// ONNX Runtime on the pulled minilm-l6 reproduces Hugging Face transformers' last_hidden_state for
/// all-MiniLM-L6-v2 (tests/fixtures/peft/base_last_hidden_state, made by the goldens recipe in shared/goldens).
/// </summary>
[Collection("minilm")]
public sealed class GoldenParityTests(MiniLmFixture fixture, ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    private static ModelInputs GoldenInputs(SafeTensorFile reference)
    {
        var shape = reference["input_ids"].Shape; // (B, S)
        return new ModelInputs(
            reference.ReadInt64("input_ids"),
            reference.ReadInt64("attention_mask"),
            reference.ReadInt64("token_type_ids"),
            (int)shape[0],
            (int)shape[1]);
    }

    [Fact]
    public void Last_hidden_state_matches_the_transformers_reference()
    {
        using var reference = SafeTensorFile.Open(TestPaths.Fixture("peft", "base_last_hidden_state", "reference.safetensors"));
        var inputs = GoldenInputs(reference);
        Assert.Equal(new long[] { 4, 35 }, inputs.Shape);
        var expected = reference.ReadFloat32("expected_last_hidden_state"); // (4, 35, 384)
        Assert.Equal(new long[] { 4, 35, 384 }, reference["expected_last_hidden_state"].Shape);

        var actual = fixture.Model.LastHiddenState(inputs);

        Assert.Equal(expected.Length, actual.Length);
        var maxDiff = 0.0;
        var at = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            var diff = Math.Abs((double)expected[i] - actual[i]);
            if (diff > maxDiff)
            {
                maxDiff = diff;
                at = i;
            }
        }
        output.WriteLine($"last_hidden_state (4, 35, 384): max |onnx - transformers| = {maxDiff:E3} at (b={at / (35 * 384)}, s={at / 384 % 35}, h={at % 384})");
        Assert.True(maxDiff <= Tolerance, $"max diff {maxDiff:E3} exceeds {Tolerance:E0}");
    }

    [Fact]
    public void Embeddings_are_the_normalised_masked_mean_of_the_reference_states()
    {
        using var reference = SafeTensorFile.Open(TestPaths.Fixture("peft", "base_last_hidden_state", "reference.safetensors"));
        var inputs = GoldenInputs(reference);
        var expectedStates = reference.ReadFloat32("expected_last_hidden_state");
        var expected = Pooling.Mean(expectedStates, inputs.AttentionMask, 4, 35, 384);
        foreach (var row in expected)
            Pooling.L2Normalize(row);

        var actual = fixture.Model.Embed(inputs);

        var maxDiff = expected.Zip(actual).Max(p => p.First.Zip(p.Second).Max(v => Math.Abs(v.First - v.Second)));
        output.WriteLine($"mean-pooled normalised embeddings (4, 384): max diff = {maxDiff:E3}");
        Assert.True(maxDiff <= 1e-5, $"max diff {maxDiff:E3}");
        // The rows really have padding (otherwise the mask would not matter).
        Assert.Contains(0L, inputs.AttentionMask);
    }
}
