using System.Text.Json.Nodes;
using PeftOnnx.Core.Models;
using PeftOnnx.Onnx.Import;
using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Onnx.Tests.Import;

/// <summary>tokenizer.json's BertNormalizer settings reach the manifest, and the runtime tokenizer then splits text as the checkpoint's tokenizer does.</summary>
public sealed class CheckpointTokenizerTests
{
    private static readonly ModelArchitecture Config = TinyBert.Config;

    /// <summary>A tokenizers-library tokenizer.json for <see cref="TinyBert.Vocab"/> (the layout tokenizers writes for BERT).</summary>
    private static string TokenizerJson(bool lowercase, bool? stripAccents, bool chinese, int? maxLength)
    {
        var vocab = new JsonObject();
        for (var i = 0; i < TinyBert.Vocab.Length; i++)
            vocab[TinyBert.Vocab[i]] = i;
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = maxLength is null ? null : new JsonObject { ["direction"] = "Right", ["max_length"] = maxLength, ["strategy"] = "LongestFirst", ["stride"] = 0 },
            ["normalizer"] = new JsonObject { ["type"] = "BertNormalizer", ["clean_text"] = true, ["handle_chinese_chars"] = chinese, ["strip_accents"] = stripAccents, ["lowercase"] = lowercase },
            ["pre_tokenizer"] = new JsonObject { ["type"] = "BertPreTokenizer" },
            ["model"] = new JsonObject { ["type"] = "WordPiece", ["unk_token"] = "[UNK]", ["continuing_subword_prefix"] = "##", ["max_input_chars_per_word"] = 100, ["vocab"] = vocab },
        };
        return root.ToJsonString();
    }

    private static (TokenizerSettings Settings, string[] Tokens) Tokenize(string tokenizerJson, string text)
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.Combine("tokenizer.json"), tokenizerJson);
        var (settings, vocab, source) = CheckpointTokenizer.Read(temp.Path, Config);
        Assert.Equal("tokenizer.json", source);
        Assert.Equal(TinyBert.Vocab, vocab);
        CheckpointTokenizer.WriteVocab(temp.Combine("vocab.txt"), vocab);
        var tokenizer = BertTokenizer.FromFile(temp.Combine("vocab.txt"), settings);
        var ids = tokenizer.Encode(text, 32).Ids.ToArray();
        return (settings, [.. ids.Select(id => vocab[(int)id])]);
    }

    [Fact]
    public void Cased_vocabulary_keeps_case_and_accents()
    {
        var (settings, tokens) = Tokenize(TokenizerJson(lowercase: false, stripAccents: null, chinese: true, maxLength: 512), "Hello Café hello");
        Assert.False(settings.Lowercase);
        Assert.Null(settings.StripAccents);
        Assert.Equal(40, settings.MaxLength); // capped at the position table
        Assert.Equal(["[CLS]", "Hello", "Café", "hello", "[SEP]"], tokens);
    }

    [Fact]
    public void Multilingual_vocabulary_keeps_accents_when_strip_accents_is_false_and_splits_chinese()
    {
        var (settings, tokens) = Tokenize(TokenizerJson(lowercase: true, stripAccents: false, chinese: true, maxLength: 16), "Crème 中文cafe");
        Assert.True(settings.Lowercase);
        Assert.False(settings.StripAccents);
        Assert.True(settings.TokenizeChineseChars);
        Assert.Equal(16, settings.MaxLength);
        Assert.Equal(["[CLS]", "crème", "中", "文", "cafe", "[SEP]"], tokens);
    }

    [Fact]
    public void Uncased_vocabulary_strips_accents_with_lowercase()
    {
        var (settings, tokens) = Tokenize(TokenizerJson(lowercase: true, stripAccents: null, chinese: true, maxLength: null), "Crème CAFÉ");
        Assert.Equal(40, settings.MaxLength);
        Assert.Equal(["[CLS]", "creme", "cafe", "[SEP]"], tokens);
    }

    [Fact]
    public void Vocab_txt_with_tokenizer_config_reads_its_settings()
    {
        using var temp = new TempFolder();
        CheckpointTokenizer.WriteVocab(temp.Combine("vocab.txt"), TinyBert.Vocab);
        File.WriteAllText(temp.Combine("tokenizer_config.json"),
            """{"tokenizer_class": "BertTokenizer", "do_lower_case": false, "strip_accents": false, "tokenize_chinese_chars": false, "model_max_length": 24, "cls_token": "[CLS]"}""");
        var (settings, vocab, _) = CheckpointTokenizer.Read(temp.Path, Config);
        Assert.Equal(new TokenizerSettings { Lowercase = false, StripAccents = false, TokenizeChineseChars = false, MaxLength = 24 }, settings);
        Assert.Equal(TinyBert.Vocab, vocab);
    }

    [Fact]
    public void Ids_that_do_not_number_the_tokens_densely_are_refused()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.Combine("tokenizer.json"), TokenizerJson(true, null, true, null).Replace("\"hello\":13", "\"hello\":99", StringComparison.Ordinal));
        var error = Assert.Throws<InvalidDataException>(() => CheckpointTokenizer.Read(temp.Path, Config));
        Assert.Contains("token 'hello' has id 99", error.Message);
    }
}
