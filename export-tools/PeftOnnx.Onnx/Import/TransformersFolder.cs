using System.Text.Json.Nodes;
using PeftOnnx.Core.Models;
using PeftOnnx.Core.SafeTensors;

namespace PeftOnnx.Onnx.Import;

/// <summary>
/// Writes a BertModel as transformers saves it (config.json, model.safetensors with BertModel keys, vocab.txt and
/// tokenizer_config.json): the way a base model recovered from ONNX (<see cref="Modules.HfStateDict"/>) or a
/// TorchSharp encoder's weights become a folder that transformers, and <see cref="ModelImporter"/>, read.
/// </summary>
public static class TransformersFolder
{
    public static void Write(string folder, ModelArchitecture config, IReadOnlyDictionary<string, (float[] Data, long[] Shape)> state,
        IReadOnlyList<string> vocab, bool lowercase, string keyPrefix = "")
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(state);
        Directory.CreateDirectory(folder);
        TransformersConfig.Write(Path.Combine(folder, TransformersConfig.FileName), config);
        var tensors = CheckpointWeights.Expected(config with { Pooler = state.ContainsKey("pooler.dense.weight") })
            .Select(e => SafeTensor.FromFloat32(keyPrefix + e.Key, state[e.Key].Data, state[e.Key].Shape));
        SafeTensorWriter.Write(Path.Combine(folder, CheckpointWeights.FileName), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        CheckpointTokenizer.WriteVocab(Path.Combine(folder, CheckpointTokenizer.VocabTxt), vocab);
        var tokenizerConfig = new JsonObject
        {
            ["tokenizer_class"] = "BertTokenizer",
            ["do_lower_case"] = lowercase,
            ["model_max_length"] = config.MaxPosition,
        };
        File.WriteAllText(Path.Combine(folder, CheckpointTokenizer.TokenizerConfig), tokenizerConfig.ToJsonString());
    }
}
