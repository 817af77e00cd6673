using TorchSharp;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Encoder;

/// <summary>Copies Hugging Face BertModel weights (torch layout, keys like encoder.layer.0.attention.self.query.weight) into a module.</summary>
public static class EncoderWeights
{
    /// <summary>
    /// Loads every parameter of <paramref name="model"/> from <paramref name="weights"/> (keys relative to the
    /// module, e.g. embeddings.word_embeddings.weight), asserting each shape. Call before injecting an adapter.
    /// </summary>
    /// <param name="prefix">Prefix of the keys in <paramref name="weights"/> ("bert." for a BertForSequenceClassification state dict, "" for BertModel).</param>
    public static void Load(nn.Module model, IReadOnlyDictionary<string, (float[] Data, long[] Shape)> weights, string prefix = "")
    {
        var missing = new List<string>();
        using (no_grad())
        {
            foreach (var (name, parameter) in model.named_parameters())
            {
                if (!weights.TryGetValue(prefix + name, out var w))
                {
                    missing.Add(prefix + name);
                    continue;
                }
                if (!w.Shape.SequenceEqual(parameter.shape))
                    throw new InvalidDataException($"weight {prefix + name} has shape [{string.Join(",", w.Shape)}], the model expects [{string.Join(",", parameter.shape)}]; is the base model the one this configuration describes?");
                if (w.Data.Length != parameter.numel())
                    throw new InvalidDataException($"weight {prefix + name} holds {w.Data.Length} values for shape [{string.Join(",", w.Shape)}].");
                using var source = tensor(w.Data, w.Shape);
                parameter.copy_(source);
            }
        }
        if (missing.Count > 0)
            throw new InvalidDataException($"the weights lack {missing.Count} parameter(s) the model needs, e.g. {string.Join(", ", missing.Take(3))}; available keys start with {string.Join(", ", weights.Keys.Take(3))}.");
    }
}
