using PeftOnnx.Core.Models;
using PeftOnnx.Core.SafeTensors;

namespace PeftOnnx.Onnx.Import;

/// <summary>
/// The BertModel weights of a transformers checkpoint (model.safetensors), keyed as BertModel names them: keys
/// with the "bert." prefix of BertFor* heads are accepted, head weights (classifier, cls.predictions) are left out.
/// Every tensor is checked against the config's shape (the error names both) and for NaN/Inf before anything is built.
/// </summary>
public static class CheckpointWeights
{
    public const string FileName = "model.safetensors";

    /// <summary>Loads the weights of <paramref name="config"/>; returns them and the architecture with <see cref="ModelArchitecture.Pooler"/> settled.</summary>
    public static (IReadOnlyDictionary<string, (float[] Data, long[] Shape)> State, ModelArchitecture Config, IReadOnlyList<string> Ignored) Load(string path, ModelArchitecture config)
    {
        ArgumentNullException.ThrowIfNull(config);
        using var file = SafeTensorFile.Open(path);
        var names = file.Tensors.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var prefix = names.Contains("bert.embeddings.word_embeddings.weight") ? "bert." : "";
        var hasPooler = names.Contains(prefix + "pooler.dense.weight");
        config = config with { Pooler = hasPooler };
        var expected = Expected(config);

        var missing = expected.Keys.Where(k => !names.Contains(prefix + k)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException(
                $"{path} lacks {missing.Count} BertModel weight(s), e.g. {string.Join(", ", missing.Take(3))}; its tensors start with {string.Join(", ", names.Order(StringComparer.Ordinal).Take(3))}. " +
                "Is it a BERT checkpoint saved by transformers?");
        }
        var state = new Dictionary<string, (float[] Data, long[] Shape)>(StringComparer.Ordinal);
        foreach (var (key, shape) in expected)
        {
            var info = file[prefix + key];
            if (!info.Shape.SequenceEqual(shape))
            {
                throw new InvalidDataException(
                    $"{path}: weight {prefix + key} has shape {info.ShapeText}, but config.json describes [{string.Join(", ", shape)}] " +
                    $"(hidden_size {config.Hidden}, intermediate_size {config.Intermediate}, vocab_size {config.VocabSize}, max_position_embeddings {config.MaxPosition}). The config and the weights are of different models.");
            }
            if (info.DType is not (SafeTensorDType.F32 or SafeTensorDType.F16 or SafeTensorDType.BF16 or SafeTensorDType.F64))
                throw new InvalidDataException($"{path}: weight {prefix + key} is {info.DType}; a float tensor is expected.");
            var data = file.ReadFloat32(prefix + key);
            var bad = Array.FindIndex(data, v => !float.IsFinite(v));
            if (bad >= 0)
                throw new InvalidDataException($"{path}: weight {prefix + key} holds {data[bad]} at element {bad}; a checkpoint with NaN or infinite weights cannot be imported.");
            state[key] = (data, shape);
        }
        var ignored = names.Where(n => !(n.StartsWith(prefix, StringComparison.Ordinal) && expected.ContainsKey(n[prefix.Length..])))
            .Where(n => n != prefix + "embeddings.position_ids")
            .Order(StringComparer.Ordinal).ToList();
        if (ignored.FirstOrDefault(n => n.StartsWith(prefix + "encoder.layer.", StringComparison.Ordinal)) is { } extra)
            throw new InvalidDataException($"{path} has weight {extra}, beyond the {config.Layers} layer(s) config.json describes (num_hidden_layers); the config and the weights are of different models.");
        return (state, config, ignored);
    }

    /// <summary>BertModel's parameters and their torch shapes for <paramref name="config"/>.</summary>
    public static IReadOnlyDictionary<string, long[]> Expected(ModelArchitecture config)
    {
        ArgumentNullException.ThrowIfNull(config);
        long h = config.Hidden, i = config.Intermediate;
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal)
        {
            ["embeddings.word_embeddings.weight"] = [config.VocabSize, h],
            ["embeddings.position_embeddings.weight"] = [config.MaxPosition, h],
            ["embeddings.token_type_embeddings.weight"] = [config.TypeVocabSize, h],
            ["embeddings.LayerNorm.weight"] = [h],
            ["embeddings.LayerNorm.bias"] = [h],
        };
        for (var layer = 0; layer < config.Layers; layer++)
        {
            var p = $"encoder.layer.{layer}.";
            foreach (var linear in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" })
            {
                shapes[p + linear + ".weight"] = [h, h];
                shapes[p + linear + ".bias"] = [h];
            }
            shapes[p + "intermediate.dense.weight"] = [i, h];
            shapes[p + "intermediate.dense.bias"] = [i];
            shapes[p + "output.dense.weight"] = [h, i];
            shapes[p + "output.dense.bias"] = [h];
            foreach (var norm in new[] { "attention.output.LayerNorm", "output.LayerNorm" })
            {
                shapes[p + norm + ".weight"] = [h];
                shapes[p + norm + ".bias"] = [h];
            }
        }
        if (config.Pooler)
        {
            shapes["pooler.dense.weight"] = [h, h];
            shapes["pooler.dense.bias"] = [h];
        }
        return shapes;
    }
}
