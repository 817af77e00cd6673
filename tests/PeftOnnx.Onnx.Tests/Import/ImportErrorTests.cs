using System.Text.Json.Nodes;
using PeftOnnx.Core.SafeTensors;
using PeftOnnx.Onnx.Import;

namespace PeftOnnx.Onnx.Tests.Import;

/// <summary>Bad checkpoints fail with an error that names the problem and the value, and leave nothing behind.</summary>
public sealed class ImportErrorTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Source => _temp.Combine("hf");

    private string Models => _temp.Combine("models");

    private Exception Fails()
    {
        var error = Assert.ThrowsAny<Exception>(() => ModelImporter.Import(Source, "tiny", Path.Combine(Models, "tiny")));
        Assert.False(Directory.Exists(Models) && Directory.EnumerateFileSystemEntries(Models).Any(), "a failed import left files behind");
        return error;
    }

    [Fact]
    public void Tiny_model_imports()
    {
        TinyBert.Write(Source);
        var result = ModelImporter.Import(Source, "tiny", Path.Combine(Models, "tiny"));
        Assert.True(result.Manifest.Architecture.Pooler);
        Assert.Equal(40, result.Manifest.Tokenizer.MaxLength);
        Assert.Equal(["tiny"], Directory.GetFileSystemEntries(Models).Select(Path.GetFileName));
    }

    [Fact]
    public void Missing_config_is_named()
    {
        TinyBert.Write(Source);
        File.Delete(Path.Combine(Source, "config.json"));
        Assert.Contains("config.json is missing", Fails().Message);
    }

    [Fact]
    public void Missing_weights_are_named()
    {
        TinyBert.Write(Source);
        File.Delete(Path.Combine(Source, "model.safetensors"));
        Assert.Contains("model.safetensors", Fails().Message);
    }

    [Fact]
    public void Missing_tokenizer_is_named()
    {
        TinyBert.Write(Source);
        File.Delete(Path.Combine(Source, "vocab.txt"));
        Assert.Contains("has no tokenizer", Fails().Message);
    }

    [Fact]
    public void Pickled_weights_are_refused_with_the_conversion()
    {
        TinyBert.Write(Source);
        File.Move(Path.Combine(Source, "model.safetensors"), Path.Combine(Source, "pytorch_model.bin"));
        var message = Fails().Message;
        Assert.Contains("never unpickles", message);
        Assert.Contains("safe_serialization=True", message);
    }

    [Theory]
    [InlineData("roberta")]
    [InlineData("distilbert")]
    public void Other_architectures_are_refused_by_name(string modelType)
    {
        TinyBert.Write(Source);
        EditConfig(c => c["model_type"] = modelType);
        Assert.Contains($"not a BERT-family config: model_type {modelType}", Fails().Message);
    }

    [Fact]
    public void Unsupported_activation_is_named()
    {
        TinyBert.Write(Source);
        EditConfig(c => c["hidden_act"] = "silu");
        Assert.Contains("hidden_act silu", Fails().Message);
    }

    [Fact]
    public void Config_that_does_not_match_the_weights_names_both_shapes()
    {
        TinyBert.Write(Source, TinyBert.Config with { Intermediate = 48 });
        EditConfig(c => c["intermediate_size"] = 64);
        var message = Fails().Message;
        Assert.Contains("encoder.layer.0.intermediate.dense.weight has shape [48, 32]", message);
        Assert.Contains("config.json describes [64, 32]", message);
    }

    [Fact]
    public void Config_with_fewer_layers_than_the_weights_is_refused()
    {
        TinyBert.Write(Source);
        EditConfig(c => c["num_hidden_layers"] = 1);
        Assert.Contains("encoder.layer.1.", Fails().Message);
    }

    [Fact]
    public void NaN_weights_are_refused()
    {
        var state = TinyBert.State(TinyBert.Config);
        state["encoder.layer.1.output.dense.weight"].Data[5] = float.NaN;
        TinyBert.Write(Source, state: state);
        var message = Fails().Message;
        Assert.Contains("encoder.layer.1.output.dense.weight holds NaN at element 5", message);
    }

    [Fact]
    public void Tokenizer_json_of_another_type_is_refused()
    {
        TinyBert.Write(Source);
        File.WriteAllText(Path.Combine(Source, "tokenizer.json"),
            """{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "normalizer": null, "pre_tokenizer": {"type": "ByteLevel"}}""");
        Assert.Contains("holds a BPE tokenizer", Fails().Message);
    }

    [Fact]
    public void Other_special_tokens_are_refused_by_name()
    {
        TinyBert.Write(Source);
        File.WriteAllText(Path.Combine(Source, "tokenizer_config.json"), """{"do_lower_case": true, "cls_token": "<s>"}""");
        Assert.Contains("cls_token is '<s>'", Fails().Message);
    }

    [Fact]
    public void Existing_target_is_not_overwritten()
    {
        TinyBert.Write(Source);
        Directory.CreateDirectory(Path.Combine(Models, "tiny"));
        File.WriteAllText(Path.Combine(Models, "tiny", "keep.txt"), "mine");
        var error = Assert.Throws<IOException>(() => ModelImporter.Import(Source, "tiny", Path.Combine(Models, "tiny")));
        Assert.Contains("already exists", error.Message);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(Models, "tiny", "keep.txt")));
    }

    [Fact]
    public void Keys_with_the_bert_prefix_and_a_head_import()
    {
        TinyBert.Write(Source);
        List<SafeTensor> tensors;
        using (var file = SafeTensorFile.Open(Path.Combine(Source, "model.safetensors")))
            tensors = [.. file.Tensors.Select(t => new SafeTensor("bert." + t.Name, t.DType, t.Shape, file.ReadBytes(t.Name)))];
        tensors.Add(SafeTensor.FromFloat32("classifier.weight", new float[3 * 32], 3, 32));
        SafeTensorWriter.Write(Path.Combine(Source, "model.safetensors"), tensors);
        var result = ModelImporter.Import(Source, "tiny", Path.Combine(Models, "tiny"));
        Assert.Equal(["classifier.weight"], result.IgnoredWeights);
    }

    private void EditConfig(Action<JsonObject> edit)
    {
        var path = Path.Combine(Source, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(config);
        File.WriteAllText(path, config.ToJsonString());
    }
}
