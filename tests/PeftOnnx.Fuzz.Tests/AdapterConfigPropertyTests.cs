using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using PeftOnnx.Core.Adapters;
using PeftOnnx.Fuzz.Targets;

namespace PeftOnnx.Fuzz.Tests;

/// <summary>Generated adapter_config.json files: every supported peft_type with its fields set to any JSON value.</summary>
public sealed class AdapterConfigPropertyTests
{
    private static readonly string[] Fields =
    [
        "r", "lora_alpha", "lora_dropout", "target_modules", "exclude_modules", "bias", "use_rslora", "use_dora", "lora_bias",
        "fan_in_fan_out", "rank_pattern", "alpha_pattern", "layers_to_transform", "layers_pattern", "modules_to_save", "task_type",
        "inference_mode", "base_model_name_or_path", "feedforward_modules", "init_ia3_weights", "num_virtual_tokens", "token_dim",
        "num_layers", "num_attention_heads", "num_transformer_submodules", "encoder_hidden_size", "prefix_projection",
        "prompt_tuning_init", "prompt_tuning_init_text", "tokenizer_name_or_path", "reduction_factor", "non_linearity", "variant",
    ];

    private static readonly Gen<byte[]> Config =
        from peftType in Gen.OneOf(Gen.OneOf([.. AdapterMethods.PeftTypes]), JsonGen.AwkwardString)
        from json in JsonGen.ObjectOf(Fields, ("peft_type", JsonValue.Create(peftType)))
        select Encoding.UTF8.GetBytes(json.ToJsonString());

    [Fact]
    public void Any_field_values_end_in_a_config_or_the_format_error()
    {
        var target = new AdapterConfigTarget();
        Config.Sample(bytes =>
        {
            var outcome = target.Check(bytes);
            Assert.False(outcome.IsCrash, outcome.Error?.ToString());
        }, iter: 3000, threads: 1);
    }
}
