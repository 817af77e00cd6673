using PeftOnnx.Core.Models;
using PeftOnnx.Onnx.Import;

namespace PeftOnnx.Onnx.Tests.Import;

/// <summary>A seeded random BERT small enough to build in milliseconds, written as a transformers folder.</summary>
internal static class TinyBert
{
    public static readonly ModelArchitecture Config = new()
    {
        Layers = 2, Hidden = 32, Heads = 4, Intermediate = 64, VocabSize = 64, MaxPosition = 40, TypeVocabSize = 2,
    };

    public static readonly string[] Vocab =
        [.. new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "café", "cafe", "Café", "crème", "creme", "中", "文", "hello", "Hello", "##s", ".", "," }];

    public static Dictionary<string, (float[] Data, long[] Shape)> State(ModelArchitecture config, int seed = 7)
    {
        var random = new Random(seed);
        return CheckpointWeights.Expected(config).ToDictionary(e => e.Key, e =>
        {
            var data = new float[e.Value.Aggregate(1L, (a, b) => a * b)];
            for (var i = 0; i < data.Length; i++)
                data[i] = (float)(random.NextDouble() - 0.5) * 0.2f + (e.Key.EndsWith("LayerNorm.weight", StringComparison.Ordinal) ? 1f : 0f);
            return (data, e.Value);
        }, StringComparer.Ordinal);
    }

    /// <summary>Writes the tiny model to <paramref name="folder"/> and returns the folder.</summary>
    public static string Write(string folder, ModelArchitecture? config = null, Dictionary<string, (float[] Data, long[] Shape)>? state = null)
    {
        config ??= Config;
        TransformersFolder.Write(folder, config, state ?? State(config), Vocab, lowercase: true);
        return folder;
    }
}
