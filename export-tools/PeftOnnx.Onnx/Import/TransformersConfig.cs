using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PeftOnnx.Core.Files;
using PeftOnnx.Core.Models;

namespace PeftOnnx.Onnx.Import;

/// <summary>
/// A transformers config.json of the BERT family, read into a <see cref="ModelArchitecture"/> (and written back, for
/// folders the tests and tools make). Anything that is not model_type "bert" is refused by name: RoBERTa, DistilBERT,
/// ... have other embeddings or layer layouts that this importer does not build.
/// </summary>
public static class TransformersConfig
{
    public const string FileName = "config.json";

    private static readonly string[] Activations = ["gelu", "gelu_new", "relu"];

    /// <summary>
    /// Reads <paramref name="path"/>. The pooler is not described by config.json (it is add_pooling_layer in code), so
    /// <see cref="ModelArchitecture.Pooler"/> is left true for <see cref="CheckpointWeights"/> to settle from the weights.
    /// </summary>
    public static ModelArchitecture Read(string path)
    {
        JsonObject root;
        try
        {
            using var stream = RegularFile.OpenRead(path);
            root = JsonNode.Parse(stream) as JsonObject ?? throw new InvalidDataException($"{path} is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e);
        }

        var modelType = String(root, "model_type", path);
        if (modelType != "bert")
            throw new InvalidDataException($"{path}: not a BERT-family config: model_type {modelType}. PeftOnnx imports model_type bert (BertModel, BertForSequenceClassification, ...).");
        var positionType = OptionalString(root, "position_embedding_type", path) ?? "absolute";
        if (positionType != "absolute")
            throw new InvalidDataException($"{path}: position_embedding_type {positionType} is not supported; the importer builds absolute position embeddings.");
        var act = OptionalString(root, "hidden_act", path) ?? "gelu";
        if (!Activations.Contains(act))
            throw new InvalidDataException($"{path}: hidden_act {act} is not supported; use one of {string.Join(", ", Activations)}.");

        var config = new ModelArchitecture
        {
            Type = "bert",
            Layers = Int(root, "num_hidden_layers", path),
            Hidden = Int(root, "hidden_size", path),
            Heads = Int(root, "num_attention_heads", path),
            Intermediate = Int(root, "intermediate_size", path),
            VocabSize = Int(root, "vocab_size", path),
            MaxPosition = Int(root, "max_position_embeddings", path),
            TypeVocabSize = root.ContainsKey("type_vocab_size") ? Int(root, "type_vocab_size", path) : 2,
            LayerNormEps = root["layer_norm_eps"] is { } eps ? Number(eps, "layer_norm_eps", path) : 1e-12,
            HiddenAct = act,
        };
        if (config.Hidden % config.Heads != 0)
            throw new InvalidDataException($"{path}: hidden_size {config.Hidden} is not a multiple of num_attention_heads {config.Heads}.");
        if (config.LayerNormEps is not (> 0 and < 1))
            throw new InvalidDataException($"{path}: layer_norm_eps {config.LayerNormEps} must be a small positive number.");
        return config;
    }

    /// <summary>The architectures list (e.g. BertForMaskedLM), for the import summary; empty when absent.</summary>
    public static IReadOnlyList<string> Architectures(string path)
    {
        using var stream = RegularFile.OpenRead(path);
        return JsonNode.Parse(stream)?["architectures"] is JsonArray list ? [.. list.Select(a => a?.ToString() ?? "")] : [];
    }

    /// <summary>Writes a config.json that transformers' BertConfig reads.</summary>
    public static void Write(string path, ModelArchitecture config, string architecture = "BertModel")
    {
        ArgumentNullException.ThrowIfNull(config);
        var root = new JsonObject
        {
            ["architectures"] = new JsonArray(architecture),
            ["model_type"] = "bert",
            ["vocab_size"] = config.VocabSize,
            ["hidden_size"] = config.Hidden,
            ["num_hidden_layers"] = config.Layers,
            ["num_attention_heads"] = config.Heads,
            ["intermediate_size"] = config.Intermediate,
            ["hidden_act"] = config.HiddenAct,
            ["max_position_embeddings"] = config.MaxPosition,
            ["type_vocab_size"] = config.TypeVocabSize,
            ["layer_norm_eps"] = config.LayerNormEps,
            ["position_embedding_type"] = "absolute",
            ["pad_token_id"] = 0,
        };
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static int Int(JsonObject root, string key, string path)
    {
        var node = root[key] ?? throw new InvalidDataException($"{path} has no {key}; a BERT config needs it.");
        var value = Number(node, key, path);
        if (value is < 1 or > int.MaxValue || value != Math.Floor(value))
            throw new InvalidDataException($"{path}: {key} is {value.ToString(CultureInfo.InvariantCulture)}, expected a positive integer.");
        return (int)value;
    }

    private static double Number(JsonNode node, string key, string path) =>
        node is JsonValue value && value.TryGetValue<double>(out var number)
            ? number
            : throw new InvalidDataException($"{path}: {key} is {node.ToJsonString()}, expected a number.");

    private static string String(JsonObject root, string key, string path) =>
        OptionalString(root, key, path) ?? throw new InvalidDataException($"{path} has no {key}; is it a transformers config.json?");

    private static string? OptionalString(JsonObject root, string key, string path) => root[key] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        var other => throw new InvalidDataException($"{path}: {key} is {other.ToJsonString()}, expected a string."),
    };
}
