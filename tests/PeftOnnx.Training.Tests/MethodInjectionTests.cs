using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Bottleneck;
using PeftOnnx.Core.Adapters.Ia3;
using PeftOnnx.Core.Adapters.Lora;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Methods;
using PeftOnnx.Training.Methods.Baselines;
using PeftOnnx.Training.Methods.Bottleneck;
using PeftOnnx.Training.Methods.Ia3;
using PeftOnnx.Training.Methods.Lora;
using PeftOnnx.Training.Methods.PrefixTuning;
using PeftOnnx.Training.Methods.PromptTuning;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Tests;

/// <summary>Each method injects what PEFT would, names its parameters as PEFT does, and trains only those (counts from the data README's PEFT runs).</summary>
public sealed class MethodInjectionTests(ITestOutputHelper output)
{
    private static readonly BertConfig MiniLm = new();

    private static LoraConfig Lora(int r, params string[] targets) =>
        new() { R = r, LoraAlpha = 2 * r, LoraDropout = 0.1, TargetModules = TargetModules.FromNames(targets) };

    private TrainableParameterReport Apply(PeftMethod method, out List<string> trainable)
    {
        using var model = new BertForSequenceClassification(MiniLm, 12);
        method.Apply(model);
        trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
        var report = TrainableParameterReport.Of(model);
        output.WriteLine($"{method.Name}: {report}");
        return report;
    }

    [Fact]
    public void Lora_qv_r8_trains_78348_parameters_like_peft()
    {
        var report = Apply(new LoraMethod(Lora(8, "query", "value")), out var names);
        Assert.Equal(78_348, report.Trainable);
        Assert.Contains("bert.encoder.layer.0.attention.self.query.lora_A.weight", names);
        Assert.Contains("bert.encoder.layer.5.attention.self.value.lora_B.weight", names);
        Assert.Contains("classifier.weight", names);
        Assert.DoesNotContain(names, n => n.Contains("base_layer", StringComparison.Ordinal));
    }

    [Fact]
    public void Lora_on_all_linear_layers_trains_342540_parameters_like_peft()
    {
        var report = Apply(new LoraMethod(Lora(8, "query", "key", "value", "dense")), out _);
        Assert.Equal(342_540, report.Trainable);
    }

    [Fact]
    public void Probe_trains_pooler_and_classifier_and_full_trains_everything()
    {
        Assert.Equal(152_460, Apply(new LinearProbeMethod(), out _).Trainable);
        var full = Apply(new FullFineTuningMethod(), out _);
        Assert.Equal(22_717_836, full.Trainable);
        Assert.Equal(full.Total, full.Trainable);
    }

    [Fact]
    public void Dora_adds_a_magnitude_per_output_row()
    {
        Apply(new LoraMethod(Lora(4, "query", "value") with { UseDora = true }), out var names);
        Assert.Contains("bert.encoder.layer.0.attention.self.query.lora_magnitude_vector", names);
    }

    [Fact]
    public void Ia3_scales_key_value_and_feedforward()
    {
        var report = Apply(new Ia3Method(new Ia3Config { TargetModules = TargetModules.FromNames("key", "value", "output.dense"), FeedforwardModules = TargetModules.FromNames("output.dense") }), out var names);
        Assert.Contains("bert.encoder.layer.3.attention.output.dense.ia3_l", names);
        Assert.Contains("bert.encoder.layer.3.output.dense.ia3_l", names);
        // per layer: key 384 + value 384 + attention.output.dense 384 + output.dense 1536, plus the classifier
        Assert.Equal(6 * (384 + 384 + 384 + 1536) + 12 * 384 + 12, report.Trainable);
    }

    [Fact]
    public void Houlsby_adds_two_adapters_per_layer_and_pfeiffer_one()
    {
        var houlsby = Apply(new BottleneckMethod(new BottleneckConfig { Variant = BottleneckConfig.Houlsby, ReductionFactor = 16 }), out var names);
        Assert.Contains("bert.encoder.layer.0.attention.output.adapter.down.weight", names);
        var pfeiffer = Apply(new BottleneckMethod(new BottleneckConfig { Variant = BottleneckConfig.Pfeiffer, ReductionFactor = 16 }), out _);
        var perAdapter = 384 * 24 + 24 + 24 * 384 + 384;
        Assert.Equal(6 * perAdapter, houlsby.Trainable - pfeiffer.Trainable);
    }

    [Fact]
    public void Prompt_and_prefix_tables_have_peft_shapes()
    {
        Apply(new PromptTuningMethod(PromptTuningMethod.ConfigFor(MiniLm, 10)), out var prompt);
        Assert.Contains("prompt_encoder.embedding.weight", prompt);
        var prefix = Apply(new PrefixTuningMethod(PrefixTuningMethod.ConfigFor(MiniLm, 8)), out _);
        Assert.Equal(8 * 6 * 2 * 384 + 12 * 384 + 12, prefix.Trainable);
    }

    [Fact]
    public void Unknown_target_is_refused_with_its_name()
    {
        using var model = new BertForSequenceClassification(MiniLm, 3);
        var e = Assert.Throws<ArgumentException>(() => new LoraMethod(Lora(8, "query", "qkv")).Apply(model));
        Assert.Contains("qkv", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Untrained_adapters_leave_the_model_output_unchanged()
    {
        random.manual_seed(3);
        using var model = new BertForSequenceClassification(MiniLm with { NumHiddenLayers = 2 }, 4);
        model.eval();
        using var batch = new EncoderBatch(randint(0, 1000, [2, 7], dtype: ScalarType.Int64), ones(2, 7, dtype: ScalarType.Int64), zeros(2, 7, dtype: ScalarType.Int64));
        using var before = model.forward(batch);
        new LoraMethod(Lora(8, "query", "value", "dense")).Apply(model);
        using var after = model.forward(batch);
        Assert.True(allclose(before, after, 1e-5, 1e-6));
    }
}
