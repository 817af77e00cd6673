using PeftOnnx.Core.Adapters;

namespace PeftOnnx.Core.Tests.Adapters;

public sealed class PeftKeysTests
{
    [Fact]
    public void Bare_encoder_keys_have_no_bert_segment()
    {
        var keys = new PeftKeys(taskType: null);
        const string module = "encoder.layer.0.attention.self.query";
        Assert.Equal("base_model.model.encoder.layer.0.attention.self.query.lora_A.weight", keys.LoraA(module));
        Assert.Equal(new AdapterKey(keys.LoraB(module), module, "lora_B.weight", true), keys.Parse(keys.LoraB(module)));
        Assert.Equal(new AdapterKey(keys.Ia3(module), module, "ia3_l", true), keys.Parse(keys.Ia3(module)));
        Assert.Equal("pooler.dense", keys.Parse("base_model.model.pooler.dense.lora_A.weight").Module);
    }

    [Fact]
    public void Seqcls_keys_put_the_encoder_under_bert_and_the_head_outside()
    {
        var keys = new PeftKeys("SEQ_CLS");
        const string module = "encoder.layer.5.attention.self.value";
        Assert.Equal("base_model.model.bert.encoder.layer.5.attention.self.value.lora_magnitude_vector", keys.LoraMagnitude(module));
        Assert.Equal(new AdapterKey(keys.LoraMagnitude(module), module, "lora_magnitude_vector", true), keys.Parse(keys.LoraMagnitude(module)));
        Assert.Equal(
            new AdapterKey("base_model.model.classifier.weight", "classifier", "weight", false),
            keys.Parse(PeftKeys.SavedModule("classifier", "weight")));
    }

    [Fact]
    public void Prompt_learning_keys_parse()
    {
        var keys = new PeftKeys("SEQ_CLS");
        Assert.Equal("prompt_embeddings", keys.Parse("prompt_embeddings").Parameter);
        Assert.Equal(new AdapterKey("base_model.classifier.bias", "classifier", "bias", false), keys.Parse("base_model.classifier.bias"));
    }

    [Fact]
    public void Older_magnitude_key_with_weight_suffix_is_normalised()
    {
        var key = new PeftKeys(null).Parse("base_model.model.encoder.layer.0.attention.self.query.lora_magnitude_vector.weight");
        Assert.Equal(("encoder.layer.0.attention.self.query", "lora_magnitude_vector"), (key.Module, key.Parameter));
    }

    [Fact]
    public void Foreign_names_are_refused_with_the_key()
    {
        var e = Assert.Throws<InvalidDataException>(() => new PeftKeys(null).Parse("model.layers.0.q_proj.weight"));
        Assert.Contains("model.layers.0.q_proj.weight", e.Message);
    }
}
