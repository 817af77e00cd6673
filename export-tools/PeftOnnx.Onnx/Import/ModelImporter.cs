using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Onnx;
using PeftOnnx.Core.Files;
using PeftOnnx.Core.Hashing;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.Models;
using PeftOnnx.Onnx.Modules;

namespace PeftOnnx.Onnx.Import;

/// <summary>What <see cref="ModelImporter.Import"/> made.</summary>
public sealed record ImportResult(string ModelDir, ModelManifest Manifest, string TokenizerSource, IReadOnlyList<string> IgnoredWeights);

/// <summary>
/// `peftonnx-export models import`: turns a Hugging Face transformers folder (config.json, model.safetensors and a
/// tokenizer) or an Optimum ONNX folder (model.onnx, config.json, tokenizer) into a PeftOnnx base model folder
/// (model.onnx, vocab.txt, model.json with sha256s). Everything is read and checked before anything is written;
/// the folder is assembled under a temporary name beside the target and renamed into place, so a failed import
/// leaves nothing behind.
/// </summary>
public static class ModelImporter
{
    public const string PickleWeights = "pytorch_model.bin";

    /// <param name="source">The transformers or Optimum folder.</param>
    /// <param name="name">The model name (the manifest's name; a plain folder name).</param>
    /// <param name="outDir">Where the model folder goes.</param>
    /// <param name="overwrite">Replace an existing <paramref name="outDir"/> (once the new folder is complete); otherwise it is an error.</param>
    /// <param name="hubId">The Hub id, recorded as the manifest's hub_id (PEFT's base_model_name_or_path).</param>
    /// <param name="hubCommit">The Hub commit the files were pulled at: the source is then recorded as hf:ID at that commit instead of the folder.</param>
    public static ImportResult Import(string source, string name, string outDir, bool overwrite = false, string? hubId = null, string? hubCommit = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(outDir);
        if (string.IsNullOrWhiteSpace(name) || name.IndexOfAny(['/', '\\']) >= 0 || name is "." or "..")
            throw new ArgumentException($"Model name '{name}' must be a plain folder name (no '/' or '\\').", nameof(name));
        source = Path.GetFullPath(source);
        outDir = Path.GetFullPath(outDir);
        if (!Directory.Exists(source))
            throw new DirectoryNotFoundException($"{source} does not exist; pass a transformers folder (config.json, model.safetensors, tokenizer.json or vocab.txt).");
        if (File.Exists(outDir) || (Directory.Exists(outDir) && !overwrite))
            throw new IOException($"{outDir} already exists; pass --overwrite to replace it, or another --output.");

        var configPath = Path.Combine(source, TransformersConfig.FileName);
        RequireFile(configPath, "the model's config.json");
        var config = TransformersConfig.Read(configPath);
        var weightsPath = Path.Combine(source, CheckpointWeights.FileName);
        var onnxPath = Path.Combine(source, "model.onnx");
        ModelProto model;
        IReadOnlyList<string> ignored = [];
        string format;
        if (File.Exists(weightsPath))
        {
            var (state, settled, skipped) = CheckpointWeights.Load(weightsPath, config);
            config = settled;
            ignored = skipped;
            model = BertGraphBuilder.Build(config, state);
            format = "transformers";
        }
        else if (File.Exists(onnxPath))
        {
            (model, config) = OptimumModel.Read(onnxPath, config);
            format = "optimum-onnx";
        }
        else if (File.Exists(Path.Combine(source, PickleWeights)))
        {
            throw new InvalidDataException(
                $"{source} has only {PickleWeights}, a pickled checkpoint; PeftOnnx never unpickles. Convert it once with Python: " +
                "`from transformers import AutoModel; AutoModel.from_pretrained(DIR).save_pretrained(DIR, safe_serialization=True)`, " +
                "which writes model.safetensors, then import again.");
        }
        else
        {
            throw new FileNotFoundException($"{source} has no weights: it needs {CheckpointWeights.FileName} (or an Optimum model.onnx).", weightsPath);
        }
        var (tokenizer, vocab, tokenizerSource) = CheckpointTokenizer.Read(source, config);
        var origin = hubCommit is null ? new ImportSource(source, format) : new ImportSource("hf:" + hubId, format, hubCommit);

        var parent = Path.GetDirectoryName(outDir)!;
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(outDir)}.import-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}.tmp");
        Directory.CreateDirectory(staging);
        try
        {
            OnnxModelFile.Save(model, Path.Combine(staging, "model.onnx"));
            CheckpointTokenizer.WriteVocab(Path.Combine(staging, CheckpointTokenizer.VocabTxt), vocab);
            var files = Directory.GetFiles(staging).Order(StringComparer.Ordinal)
                .Select(f => new ModelFile(Path.GetFileName(f), null, FileSha256.Of(f), new FileInfo(f).Length)).ToList();
            var (pooling, normalize) = SentenceTransformersPooling(source);
            var manifest = new ModelManifest
            {
                Name = name,
                Description = $"{config.Layers}-layer BERT, hidden {config.Hidden}, {config.HiddenAct}, {(tokenizer.Lowercase ? "uncased" : "cased")}, imported from {origin.From}",
                HubId = hubId,
                Imported = origin,
                Files = files,
                Architecture = config,
                Tokenizer = tokenizer,
                Pooling = pooling,
                Normalize = normalize,
                Outputs = OutputsOf(model),
            };
            PeftJson.Save(Path.Combine(staging, ModelManifest.FileName), manifest);
            if (Directory.Exists(outDir))
            {
                var old = staging + ".old";
                Directory.Move(outDir, old);
                Directory.Move(staging, outDir);
                Directory.Delete(old, recursive: true);
            }
            else
            {
                Directory.Move(staging, outDir);
            }
            return new ImportResult(outDir, manifest, tokenizerSource, ignored);
        }
        finally
        {
            if (Directory.Exists(staging))
                Directory.Delete(staging, recursive: true);
        }
    }

    private static Dictionary<string, string> OutputsOf(ModelProto model)
    {
        var outputs = new Dictionary<string, string>(StringComparer.Ordinal) { ["last_hidden_state"] = "last_hidden_state" };
        if (model.Graph.Output.Any(o => o.Name == BertGraphBuilder.PoolerOutput))
            outputs["pooler_output"] = BertGraphBuilder.PoolerOutput;
        return outputs;
    }

    /// <summary>sentence-transformers folders say how they pool (1_Pooling/config.json) and whether they normalize (modules.json); others pool by mean and normalize.</summary>
    private static (string Pooling, bool Normalize) SentenceTransformersPooling(string source)
    {
        var pooling = "mean";
        var poolingConfig = Path.Combine(source, "1_Pooling", "config.json");
        if (File.Exists(poolingConfig) && JsonNode.Parse(RegularFile.ReadAllText(poolingConfig, 1 << 20)) is JsonObject p
            && p["pooling_mode_cls_token"] is JsonValue cls && cls.TryGetValue<bool>(out var isCls) && isCls)
            pooling = "cls";
        var modules = Path.Combine(source, "modules.json");
        var normalize = !File.Exists(modules) || RegularFile.ReadAllText(modules, 1 << 20).Contains("Normalize", StringComparison.Ordinal);
        return (pooling, normalize);
    }

    private static void RequireFile(string path, string what)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} is missing ({what}).", path);
    }
}
