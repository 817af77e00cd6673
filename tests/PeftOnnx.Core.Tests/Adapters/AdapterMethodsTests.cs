using System.Runtime.CompilerServices;
using PeftOnnx.Core.Adapters;

namespace PeftOnnx.Core.Tests.Adapters;

/// <summary>The method registry: each registration agrees with its config type, and messages list what it declares.</summary>
public sealed class AdapterMethodsTests
{
    [Fact]
    public void Every_registration_names_the_peft_type_of_its_config()
    {
        foreach (var method in AdapterMethods.All)
        {
            Assert.True(typeof(PeftAdapterConfig).IsAssignableFrom(method.ConfigType), $"{method.PeftType}: {method.ConfigType} is not a PeftAdapterConfig");
            var config = (PeftAdapterConfig)RuntimeHelpers.GetUninitializedObject(method.ConfigType);
            Assert.Equal(method.PeftType, config.PeftType);
        }
        Assert.Equal(AdapterMethods.All.Count, AdapterMethods.PeftTypes.Count);
    }

    [Fact]
    public void Mergeable_types_are_those_with_a_merge()
    {
        var mergeable = AdapterMethods.Describe(m => m.Mergeable);
        Assert.StartsWith("LORA (incl. DoRA), IA3", mergeable, StringComparison.Ordinal);
        Assert.DoesNotContain("PROMPT_TUNING", mergeable, StringComparison.Ordinal);
        Assert.DoesNotContain("BOTTLENECK", mergeable, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("encoder.layer.0.attention.self.query.lora_magnitude_vector.weight", "encoder.layer.0.attention.self.query", "lora_magnitude_vector")]
    [InlineData("encoder.layer.0.attention.self.query.lora_B.bias", "encoder.layer.0.attention.self.query", "lora_B.bias")]
    [InlineData("encoder.layer.3.output.dense.ia3_l", "encoder.layer.3.output.dense", "ia3_l")]
    public void Keys_split_by_the_registered_parameter_names(string path, string module, string parameter)
    {
        Assert.Equal((module, parameter), AdapterMethods.SplitParameter(path));
    }
}
