using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using PeftOnnx.Fuzz.Targets;

namespace PeftOnnx.Fuzz.Tests;

/// <summary>Generated bundle.json files, alone and in a model folder, with every field set to any JSON value.</summary>
public sealed class BundlePropertyTests
{
    private static readonly string[] Fields =
        ["format", "name", "task", "model", "labels", "pooling", "normalize", "precision", "outputs", "mode", "provenance", "files"];

    private static readonly string[] TokenizerFields = ["type", "lowercase", "strip_accents", "tokenize_chinese_chars", "max_length", "vocab"];

    private static readonly Gen<byte[]> Bundle =
        from tokenizer in JsonGen.ObjectOf(TokenizerFields)
        from tokenizerIsObject in Gen.Bool
        from task in Gen.OneOf("feature_extraction", "sequence_classification", "x")
        from json in JsonGen.ObjectOf(Fields, ("format", (JsonNode?)"peftonnx.bundle/1"), ("task", (JsonNode?)task))
        select Encoding.UTF8.GetBytes(With(json, "tokenizer", tokenizerIsObject ? tokenizer : null).ToJsonString());

    [Fact]
    public void Any_field_values_end_in_a_manifest_or_the_format_error()
    {
        var target = new BundleManifestTarget();
        Bundle.Sample(bytes =>
        {
            var outcome = target.Check(bytes);
            Assert.False(outcome.IsCrash, outcome.Error?.ToString());
        }, iter: 2000, threads: 1);
    }

    [Fact]
    public void Model_folder_checks_end_in_a_folder_or_the_format_error()
    {
        var target = new ModelFolderTarget();
        var vocab = Gen.OneOf(Gen.Const("[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\n##s\n"u8.ToArray()), Gen.Byte.Array[0, 32]);
        Gen.Select(Bundle, vocab, Gen.Byte.Array[0, 32]).Sample((manifest, vocabulary, model) =>
        {
            var outcome = target.Check(ModelFolderTarget.Input(0, manifest, vocabulary, model));
            Assert.False(outcome.IsCrash, outcome.Error?.ToString());
        }, iter: 1000, threads: 1);
    }

    private static JsonObject With(JsonObject json, string name, JsonNode? value)
    {
        json[name] = value;
        return json;
    }
}
