using System.Text.Json.Nodes;
using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Bottleneck;
using PeftOnnx.Core.Adapters.Ia3;
using PeftOnnx.Core.Adapters.Lora;
using PeftOnnx.Core.Adapters.PrefixTuning;
using PeftOnnx.Core.Adapters.PromptTuning;
using PeftOnnx.Tests;

namespace PeftOnnx.Core.Tests.Adapters;

public sealed class PeftAdapterConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("adapter-config-test").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static PeftAdapterConfig Golden(string name) =>
        PeftAdapterConfig.Load(TestPaths.Fixture("peft", name, PeftAdapterConfig.FileName));

    private static PeftAdapterConfig Parse(string json) => PeftAdapterConfig.Parse(JsonNode.Parse(json)!.AsObject(), "test.json");

    [Fact]
    public void Reads_golden_lora_config()
    {
        var lora = Assert.IsType<LoraConfig>(Golden("lora_qv_r8"));
        Assert.Equal(8, lora.R);
        Assert.Equal(16, lora.LoraAlpha);
        Assert.Equal(["query", "value"], lora.TargetModules!.Names);
        Assert.Null(lora.TaskType);
        Assert.Equal(2.0, lora.ScaleFor("encoder.layer.0.attention.self.query"));
    }

    [Fact]
    public void Rslora_scales_by_sqrt_r()
    {
        var lora = Assert.IsType<LoraConfig>(Golden("lora_all_r16_rslora"));
        Assert.True(lora.UseRslora);
        Assert.Equal(8 / Math.Sqrt(16), lora.ScaleFor("pooler.dense"));
    }

    [Fact]
    public void Reads_golden_seqcls_ia3_prompt_and_prefix_configs()
    {
        var seqcls = Assert.IsType<LoraConfig>(Golden("seqcls_lora_qv_r8"));
        Assert.Equal("SEQ_CLS", seqcls.TaskType);
        Assert.Equal(["classifier", "score"], seqcls.ModulesToSave);

        var ia3 = Assert.IsType<Ia3Config>(Golden("ia3_kv_ff"));
        Assert.True(ia3.IsFeedforward("encoder.layer.0.output.dense"));
        Assert.True(ia3.IsFeedforward("encoder.layer.0.attention.output.dense"));
        Assert.False(ia3.IsFeedforward("encoder.layer.0.attention.self.key"));

        Assert.Equal(10, Assert.IsType<PromptTuningConfig>(Golden("seqcls_prompt_tuning_10")).NumVirtualTokens);
        var prefix = Assert.IsType<PrefixTuningConfig>(Golden("seqcls_prefix_tuning_8"));
        Assert.Equal(6 * 2 * 384, prefix.PrefixWidth);
    }

    [Fact]
    public void Zero_rank_is_refused_with_the_value()
    {
        var e = Assert.Throws<InvalidDataException>(() => Parse("""{"peft_type": "LORA", "r": 0, "target_modules": ["query"]}"""));
        Assert.Contains("`r` should be positive, got 0", e.Message);
        Assert.Contains("test.json", e.Message);
    }

    [Fact]
    public void Unknown_peft_type_lists_the_supported_ones()
    {
        var e = Assert.Throws<InvalidDataException>(() => Parse("""{"peft_type": "LOHA", "r": 8}"""));
        Assert.Contains("\"LOHA\"", e.Message);
        foreach (var t in new[] { "LORA", "IA3", "PROMPT_TUNING", "PREFIX_TUNING", "BOTTLENECK" })
            Assert.Contains(t, e.Message);
    }

    [Theory]
    // Found by fuzzing (tests/PeftOnnx.Fuzz/corpus/adapter-config/crash-*): ArgumentException and InvalidOperationException.
    [InlineData("{\"peft_type\": \"LORA\", \"r\": 8, \"r\": 4}", "not valid JSON")]
    [InlineData("{\"peft_type\": \"LORA\", \"target_modules\": [\"query\\ud800\"]}", "not valid Unicode")]
    [InlineData("{\"peft_type\": \"\\udc00\"}", "not valid Unicode")]
    [InlineData("{\"peft_type\": \"LORA\", \"\\ud800\": 1, \"\\ud800\": 2}", "not valid JSON")]
    // NullReferenceException in Validate: a null for a field whose type is not nullable is refused while reading.
    [InlineData("{\"peft_type\": \"LORA\", \"r\": 8, \"target_modules\": [\"query\"], \"rank_pattern\": null}", "rank_pattern")]
    [InlineData("{\"peft_type\": \"LORA\", \"r\": 8, \"target_modules\": [\"query\"], \"bias\": null}", "bias")]
    public void Duplicate_keys_and_lone_surrogates_are_format_errors(string json, string expected)
    {
        var path = Path.Combine(_dir, PeftAdapterConfig.FileName);
        File.WriteAllText(path, json);
        var e = Assert.Throws<InvalidDataException>(() => PeftAdapterConfig.Load(path));
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Missing_peft_type_is_refused()
    {
        var e = Assert.Throws<InvalidDataException>(() => Parse("""{"r": 8}"""));
        Assert.Contains("peft_type", e.Message);
    }

    [Fact]
    public void Wrongly_typed_field_names_the_field()
    {
        var e = Assert.Throws<InvalidDataException>(() => Parse("""{"peft_type": "LORA", "r": "eight", "target_modules": ["query"]}"""));
        Assert.Contains("$.r", e.Message);
    }

    [Fact]
    public void Target_modules_may_be_a_regex_string()
    {
        var lora = Assert.IsType<LoraConfig>(Parse("""{"peft_type": "LORA", "target_modules": ".*\\.(query|value)"}"""));
        Assert.Equal(@".*\.(query|value)", lora.TargetModules!.Pattern);
        Assert.True(lora.TargetModules.Matches("encoder.layer.3.attention.self.query"));
        Assert.False(lora.TargetModules.Matches("encoder.layer.3.attention.self.key"));
    }

    [Fact]
    public void Rank_and_alpha_patterns_override_per_module()
    {
        var lora = Assert.IsType<LoraConfig>(Parse("""
            {"peft_type": "LORA", "r": 8, "lora_alpha": 16, "target_modules": ["query", "value"],
             "rank_pattern": {"layer.1.attention.self.query": 4}, "alpha_pattern": {"value": 2}}
            """));
        Assert.Equal(4, lora.RankFor("encoder.layer.1.attention.self.query"));
        Assert.Equal(8, lora.RankFor("encoder.layer.11.attention.self.query"));
        Assert.Equal(16 / 4.0, lora.ScaleFor("encoder.layer.1.attention.self.query"));
        Assert.Equal(2 / 8.0, lora.ScaleFor("encoder.layer.0.attention.self.value"));
    }

    [Fact]
    public void Ia3_feedforward_must_be_a_subset_of_targets()
    {
        var e = Assert.Throws<InvalidDataException>(() => Parse("""{"peft_type": "IA3", "target_modules": ["key"], "feedforward_modules": ["output.dense"]}"""));
        Assert.Contains("output.dense", e.Message);
        Assert.Contains("subset", e.Message);
    }

    [Fact]
    public void Bottleneck_config_validates_its_fields()
    {
        var ok = Assert.IsType<BottleneckConfig>(Parse("""{"peft_type": "BOTTLENECK", "variant": "pfeiffer", "reduction_factor": 16}"""));
        Assert.Equal(["output"], ok.Sites);
        Assert.Equal(24, ok.BottleneckSize(384));
        var e = Assert.Throws<InvalidDataException>(() => Parse("""{"peft_type": "BOTTLENECK", "variant": "lora"}"""));
        Assert.Contains("got \"lora\"", e.Message);
    }

    [Fact]
    public void Saved_config_round_trips_and_carries_peft_type()
    {
        var path = Path.Combine(_dir, PeftAdapterConfig.FileName);
        var config = new LoraConfig { R = 4, LoraAlpha = 8, UseDora = true, TargetModules = TargetModules.FromNames("query", "value"), TaskType = "SEQ_CLS", ModulesToSave = ["classifier"] };
        config.Save(path);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        Assert.Equal("LORA", (string?)json["peft_type"]);
        Assert.Equal(4, (int?)json["r"]);
        Assert.True((bool?)json["use_dora"]);
        var back = Assert.IsType<LoraConfig>(PeftAdapterConfig.Load(path));
        Assert.Equal(config.TargetModules.Names, back.TargetModules!.Names);
        Assert.Equal(config.ScaleFor("x.query"), back.ScaleFor("x.query"));
    }
}
