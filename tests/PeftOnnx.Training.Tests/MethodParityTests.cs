using PeftOnnx.Tests;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Output;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Tests;

/// <summary>
/// Each method's TorchSharp forward, with a PEFT-saved adapter loaded, reproduces PEFT 0.21's output
/// (tests/fixtures/peft, made by transformers + PEFT on the same weights).
/// </summary>
public sealed class MethodParityTests(MiniLmFixture miniLm, ITestOutputHelper output) : IClassFixture<MiniLmFixture>
{
    [Theory]
    [InlineData("seqcls_lora_qv_r8", 1e-4)]
    [InlineData("seqcls_prompt_tuning_10", 1e-4)]
    [InlineData("seqcls_prefix_tuning_8", 1e-4)]
    public void Sequence_classification_logits_match_peft(string caseName, double tolerance)
    {
        var (batch, expected, shape) = MiniLmFixture.Golden(caseName, "expected_logits");
        using var _b = batch;
        using var model = miniLm.Base.CreateClassifier((int)shape[1], Pooling.Pooler);
        var method = AdapterLoader.Apply(model, TestPaths.Fixture("peft", caseName));
        model.eval();
        using var inference = inference_mode();
        using var logits = model.forward(batch);
        var diff = MiniLmFixture.MaxAbsDiff(logits, expected, shape);
        output.WriteLine($"{caseName} ({method.Name}): max |torchsharp - peft| logits {diff:E2}");
        Assert.True(diff < tolerance, $"{caseName}: logits differ by {diff}");
    }

    [Theory]
    [InlineData("lora_qv_r8", 1e-4)]
    [InlineData("ia3_kv_ff", 1e-4)]
    // The fp32 reference itself is 9.2e-5 off float64 here (goldens/README.md).
    [InlineData("lora_all_r16_rslora", 2e-4)]
    public void Encoder_hidden_states_match_peft(string caseName, double tolerance)
    {
        var (batch, expected, shape) = MiniLmFixture.Golden(caseName, "expected_last_hidden_state");
        using var _b = batch;
        using var model = miniLm.Base.CreateClassifier(2, Pooling.Pooler);
        var method = AdapterLoader.Apply(model, TestPaths.Fixture("peft", caseName));
        model.eval();
        using var inference = inference_mode();
        var (hidden, _) = model.Bert.forward(batch);
        var diff = MiniLmFixture.MaxAbsDiff(hidden, expected, shape);
        output.WriteLine($"{caseName} ({method.Name}): max |torchsharp - peft| last_hidden_state {diff:E2}");
        Assert.True(diff < tolerance, $"{caseName}: last_hidden_state differs by {diff}");
        hidden.Dispose();
    }

    [Fact]
    public void Adapter_changes_the_output()
    {
        var (batch, expected, shape) = MiniLmFixture.Golden("seqcls_lora_qv_r8", "expected_logits");
        using var _b = batch;
        using var model = miniLm.Base.CreateClassifier((int)shape[1], Pooling.Pooler);
        // Same classifier, LoRA weights left at their initial state (B = 0): must miss the reference.
        AdapterLoader.Apply(model, TestPaths.Fixture("peft", "seqcls_lora_qv_r8"));
        using (no_grad())
        {
            foreach (var (name, p) in model.named_parameters().Where(p => p.name.Contains("lora_B", StringComparison.Ordinal)))
                p.zero_();
        }
        model.eval();
        using var inference = inference_mode();
        using var logits = model.forward(batch);
        var diff = MiniLmFixture.MaxAbsDiff(logits, expected, shape);
        output.WriteLine($"without LoRA: {diff:E2}");
        Assert.True(diff > 1e-3);
    }
}
