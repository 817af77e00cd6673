using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Methods;

namespace PeftOnnx.Training.Tests;

/// <summary>The trainer's method registry: every --method name builds the method of that name, and a config builds its trainer back.</summary>
public sealed class PeftMethodsTests
{
    private static readonly BertConfig Tiny = new()
    {
        VocabSize = 32, HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 32, MaxPositionEmbeddings = 32,
    };

    [Fact]
    public void Every_method_name_builds_that_method_and_its_config_builds_it_again()
    {
        Assert.Subset(PeftMethods.Names.ToHashSet(), new HashSet<string> { "lora", "dora", "ia3", "houlsby", "pfeiffer", "prompt", "prefix", "probe", "full" });
        // A fusion is built from adapter folders (AdapterFusionTests); without them it says what it needs.
        var fusion = Assert.Throws<ArgumentException>(() => PeftMethods.Create("fusion", new MethodSettings(), Tiny));
        Assert.Contains("at least 2 adapters, got 0", fusion.Message, StringComparison.Ordinal);
        foreach (var name in PeftMethods.Names.Where(n => n != "fusion"))
        {
            var method = PeftMethods.Create(name, new MethodSettings { ReductionFactor = 4, VirtualTokens = 3 }, Tiny);
            Assert.Equal(name, method.Name);
            if (method.AdapterConfig(Tiny) is { } config)
                Assert.Equal(name, PeftMethods.FromConfig(config).Name);
        }
        Assert.Equal(1e-3, PeftMethods.DefaultLearningRate("dora"));
        Assert.Equal(5e-5, PeftMethods.DefaultLearningRate("full"));
        var e = Assert.Throws<ArgumentException>(() => PeftMethods.Create("lorax", new MethodSettings(), Tiny));
        Assert.Contains("lora, dora, ia3", e.Message, StringComparison.Ordinal);
    }
}
