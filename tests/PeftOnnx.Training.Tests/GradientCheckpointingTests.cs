using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Lora;
using PeftOnnx.Training.Data;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Methods;
using PeftOnnx.Training.Methods.Baselines;
using PeftOnnx.Training.Methods.Lora;
using PeftOnnx.Training.Methods.PrefixTuning;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Tests;

/// <summary>
/// Gradient checkpointing recomputes each block in backward with the same dropout draws, so its loss and gradients
/// equal the plain run's (dropout on, the same seed), for a frozen encoder with adapters, full fine-tuning and prefix tuning.
/// </summary>
public sealed class GradientCheckpointingTests(ITestOutputHelper output)
{
    private static readonly BertConfig Tiny = new()
    {
        VocabSize = 64, HiddenSize = 16, NumHiddenLayers = 3, NumAttentionHeads = 2, IntermediateSize = 32, MaxPositionEmbeddings = 64,
    };

    public static TheoryData<string> Methods => ["lora", "full", "prefix"];

    [Theory]
    [MemberData(nameof(Methods))]
    public void Checkpointed_gradients_equal_plain_gradients(string method)
    {
        var plain = Gradients(method, checkpointing: false);
        var checkpointed = Gradients(method, checkpointing: true);
        // The tolerance means something: other dropout draws move the gradients far more than it.
        var otherDraws = Gradients(method, checkpointing: false, dropoutSeed: 10);
        Assert.True(MaxDiff(plain, otherDraws) > 1e-4, $"dropout draws barely change the gradients ({MaxDiff(plain, otherDraws):E2})");
        Assert.Equal(plain.Keys.Order(), checkpointed.Keys.Order());
        var maxDiff = MaxDiff(plain, checkpointed);
        output.WriteLine($"{method}: {plain.Count} trainable tensors, max |grad diff| checkpointed vs plain {maxDiff:E2}");
        Assert.True(plain.Values.Any(g => g.Any(v => v != 0)), "the plain run produced no gradient at all");
        Assert.True(maxDiff <= 1e-6, $"max |grad diff| {maxDiff:E2}");
    }

    private static double MaxDiff(Dictionary<string, float[]> a, Dictionary<string, float[]> b) =>
        a.Max(p => p.Value.Length == 0 ? 0 : p.Value.Zip(b[p.Key], (x, y) => (double)Math.Abs(x - y)).Max());

    private static Dictionary<string, float[]> Gradients(string methodName, bool checkpointing, int dropoutSeed = 9)
    {
        torch.set_num_threads(1);
        random.manual_seed(5);
        using var model = new BertForSequenceClassification(Tiny, 3);
        PeftMethod method = methodName switch
        {
            "lora" => new LoraMethod(new LoraConfig { R = 4, LoraAlpha = 8, LoraDropout = 0.1, TargetModules = TargetModules.FromNames("query", "value") }),
            "prefix" => new PrefixTuningMethod(PrefixTuningMethod.ConfigFor(Tiny, 4)),
            _ => new FullFineTuningMethod(),
        };
        method.Apply(model);
        using (no_grad())
        {
            // LoRA's B starts at zero; make the adapter matter so its A gets a gradient too.
            foreach (var (name, p) in model.named_parameters().Where(p => p.name.Contains("lora_B", StringComparison.Ordinal)))
                p.normal_(0, 0.1);
        }
        model.train();
        model.Bert.Encoder.GradientCheckpointing = checkpointing;

        var examples = Enumerable.Range(0, 6).Select(i => new TokenizedExample([1, .. Enumerable.Range(0, 5 + i).Select(k => 10 + ((k * 7) + i) % 50), 2], i % 3)).ToList();
        random.manual_seed(dropoutSeed); // the dropout draws
        using var scope = NewDisposeScope();
        var (batch, labels) = BatchCollator.Collate(examples, [.. Enumerable.Range(0, examples.Count)], 0, CPU);
        var loss = nn.functional.cross_entropy(model.forward(batch), labels);
        loss.backward();
        return model.named_parameters().Where(p => p.parameter.requires_grad)
            .ToDictionary(p => p.name, p => p.parameter.grad is { } g ? g.data<float>().ToArray() : []);
    }
}
