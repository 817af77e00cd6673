using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PeftOnnx.Core.Files;
using PeftOnnx.Core.Models;

namespace PeftOnnx.Onnx.Import;

/// <summary>
/// The tokenizer of a transformers folder as the runtime's BERT tokenizer needs it: the WordPiece vocabulary in id
/// order (written as vocab.txt) and the settings (lower-casing, accent stripping, Chinese characters, max length).
/// Read from tokenizer.json (the tokenizers library's file) when present, else from vocab.txt + tokenizer_config.json.
/// The runtime knows the special tokens by their BERT names, so a tokenizer whose [CLS]/[SEP]/[PAD]/[UNK] are called
/// otherwise is refused by name.
/// </summary>
public static class CheckpointTokenizer
{
    public const string TokenizerJson = "tokenizer.json";
    public const string VocabTxt = "vocab.txt";
    public const string TokenizerConfig = "tokenizer_config.json";

    private static readonly (string Key, string Expected)[] SpecialTokens =
        [("cls_token", "[CLS]"), ("sep_token", "[SEP]"), ("pad_token", "[PAD]"), ("unk_token", "[UNK]")];

    /// <summary>The vocabulary and settings of <paramref name="folder"/>; max length defaults to (and is capped at) the position table.</summary>
    public static (TokenizerSettings Settings, IReadOnlyList<string> Vocab, string Source) Read(string folder, ModelArchitecture config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var json = Path.Combine(folder, TokenizerJson);
        var txt = Path.Combine(folder, VocabTxt);
        var tokenizerConfig = Path.Combine(folder, TokenizerConfig);
        var extra = File.Exists(tokenizerConfig) ? Load(tokenizerConfig) : null;
        if (extra is not null)
            CheckSpecialTokens(extra, tokenizerConfig);
        long? configMax = extra?["model_max_length"] is JsonValue m && m.TryGetValue<double>(out var max) && max is > 0 and < long.MaxValue ? (long)max : null;

        TokenizerSettings settings;
        IReadOnlyList<string> vocab;
        string source;
        long? maxLength;
        if (File.Exists(json))
        {
            (settings, vocab, maxLength) = FromTokenizerJson(json);
            maxLength ??= configMax;
            source = TokenizerJson;
        }
        else if (File.Exists(txt))
        {
            if (extra is null)
                throw new FileNotFoundException($"{folder} has {VocabTxt} but no {TokenizerConfig} (or {TokenizerJson}); the lower-casing setting cannot be known without one.", tokenizerConfig);
            if (extra["tokenizer_class"] is JsonValue cls && cls.TryGetValue<string>(out var name) && !name.StartsWith("Bert", StringComparison.Ordinal))
                throw new InvalidDataException($"{tokenizerConfig}: tokenizer_class {name} is not a BERT WordPiece tokenizer.");
            settings = new TokenizerSettings
            {
                Lowercase = Bool(extra, "do_lower_case", tokenizerConfig) ?? true,
                StripAccents = Bool(extra, "strip_accents", tokenizerConfig),
                TokenizeChineseChars = Bool(extra, "tokenize_chinese_chars", tokenizerConfig) ?? true,
            };
            vocab = ReadVocabTxt(txt);
            maxLength = configMax;
            source = $"{VocabTxt} + {TokenizerConfig}";
        }
        else
        {
            throw new FileNotFoundException($"{folder} has no tokenizer: it needs {TokenizerJson}, or {VocabTxt} with {TokenizerConfig}.", json);
        }

        foreach (var (_, token) in SpecialTokens)
        {
            if (!vocab.Contains(token))
                throw new InvalidDataException($"{folder}: the vocabulary ({source}) has no {token}; the BERT tokenizer needs [CLS], [SEP], [PAD] and [UNK].");
        }
        if (vocab.Count > config.VocabSize)
            throw new InvalidDataException($"{folder}: the vocabulary has {vocab.Count} tokens but config.json's vocab_size is {config.VocabSize}; ids past the embedding table would fail at run time.");
        var length = (int)Math.Min(maxLength ?? config.MaxPosition, config.MaxPosition);
        return (settings with { MaxLength = length, Vocab = VocabTxt }, vocab, source);
    }

    /// <summary>Writes the vocabulary one token a line, line number = id (the format the runtime reads).</summary>
    public static void WriteVocab(string path, IReadOnlyList<string> vocab)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        File.WriteAllText(path, string.Join('\n', vocab) + "\n", new UTF8Encoding(false));
    }

    private static (TokenizerSettings, IReadOnlyList<string>, long?) FromTokenizerJson(string path)
    {
        var root = Load(path);
        var model = root["model"] as JsonObject ?? throw new InvalidDataException($"{path} has no \"model\" object; is it a tokenizers tokenizer.json?");
        var type = model["type"]?.ToString() ?? "(none)";
        if (type != "WordPiece")
            throw new InvalidDataException($"{path} holds a {type} tokenizer; PeftOnnx runs BERT WordPiece tokenizers only (model.type WordPiece).");
        if (model["continuing_subword_prefix"] is JsonValue prefix && prefix.ToString() != "##")
            throw new InvalidDataException($"{path}: continuing_subword_prefix is '{prefix}', the BERT tokenizer uses '##'.");
        if (model["unk_token"] is JsonValue unk && unk.ToString() != "[UNK]")
            throw new InvalidDataException($"{path}: unk_token is '{unk}'; the runtime's BERT tokenizer uses [UNK].");
        var normalizer = root["normalizer"] as JsonObject;
        var normalizerType = normalizer?["type"]?.ToString() ?? "(none)";
        if (normalizerType != "BertNormalizer")
            throw new InvalidDataException($"{path}: the normalizer is {normalizerType}; PeftOnnx reproduces BertNormalizer only.");
        var preTokenizer = root["pre_tokenizer"]?["type"]?.ToString() ?? "(none)";
        if (preTokenizer != "BertPreTokenizer")
            throw new InvalidDataException($"{path}: the pre-tokenizer is {preTokenizer}; PeftOnnx reproduces BertPreTokenizer only.");
        var settings = new TokenizerSettings
        {
            Lowercase = Bool(normalizer!, "lowercase", path) ?? true,
            StripAccents = Bool(normalizer!, "strip_accents", path),
            TokenizeChineseChars = Bool(normalizer!, "handle_chinese_chars", path) ?? true,
        };

        var entries = model["vocab"] as JsonObject ?? throw new InvalidDataException($"{path}: model.vocab is not a token -> id object.");
        var vocab = new string?[entries.Count];
        foreach (var (token, idNode) in entries)
        {
            if (idNode is not JsonValue v || !v.TryGetValue<int>(out var id) || id < 0 || id >= vocab.Length)
                throw new InvalidDataException($"{path}: token '{token}' has id {idNode?.ToJsonString()}, outside 0..{vocab.Length - 1}; the ids must number the tokens densely.");
            if (vocab[id] is not null)
                throw new InvalidDataException($"{path}: tokens '{vocab[id]}' and '{token}' both have id {id}.");
            vocab[id] = CheckToken(token, path);
        }
        long? maxLength = root["truncation"]?["max_length"] is JsonValue t && t.TryGetValue<long>(out var length) && length > 0 ? length : null;
        return (settings, vocab!, maxLength);
    }

    private static List<string> ReadVocabTxt(string path)
    {
        var text = RegularFile.ReadAllText(path, 64L << 20);
        var lines = text.Split('\n');
        var count = lines.Length > 0 && lines[^1].Length == 0 ? lines.Length - 1 : lines.Length;
        return [.. lines.Take(count).Select(l => CheckToken(l.TrimEnd('\r'), path))];
    }

    private static string CheckToken(string token, string path) =>
        token.Contains('\n', StringComparison.Ordinal) || token.Contains('\r', StringComparison.Ordinal)
            ? throw new InvalidDataException($"{path}: token {JsonSerializer.Serialize(token)} holds a line break and cannot be written to vocab.txt.")
            : token;

    private static void CheckSpecialTokens(JsonObject tokenizerConfig, string path)
    {
        foreach (var (key, expected) in SpecialTokens)
        {
            var value = tokenizerConfig[key] switch
            {
                JsonValue text => text.ToString(),
                JsonObject added => added["content"]?.ToString(),
                _ => null,
            };
            if (value is not null && value != expected)
                throw new InvalidDataException($"{path}: {key} is '{value}'; the runtime's BERT tokenizer uses {expected}.");
        }
    }

    private static bool? Bool(JsonObject root, string key, string path) => root[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        var other => throw new InvalidDataException($"{path}: {key} is {other.ToJsonString()}, expected true, false or null."),
    };

    private static JsonObject Load(string path)
    {
        try
        {
            using var stream = RegularFile.OpenRead(path);
            return JsonNode.Parse(stream) as JsonObject ?? throw new InvalidDataException($"{path} is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e);
        }
    }
}
