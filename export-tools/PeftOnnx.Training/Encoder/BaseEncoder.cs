using PeftOnnx.Core.Json;
using PeftOnnx.Core.Models;
using PeftOnnx.Onnx.Modules;

namespace PeftOnnx.Training.Encoder;

/// <summary>
/// A pulled base model folder (models/&lt;name&gt;: model.json, model.onnx, vocab.txt) with its weights read
/// from the ONNX initializers in Hugging Face's torch layout (through the exporter's module map).
/// </summary>
public sealed class BaseEncoder
{
    private BaseEncoder(string directory, ModelManifest manifest, BertConfig config, IReadOnlyDictionary<string, (float[] Data, long[] Shape)> weights)
    {
        Directory = directory;
        Manifest = manifest;
        Config = config;
        Weights = weights;
    }

    public string Directory { get; }

    public ModelManifest Manifest { get; }

    public BertConfig Config { get; }

    /// <summary>BertModel state dict: embeddings.word_embeddings.weight, encoder.layer.0.attention.self.query.weight [out, in], pooler.dense.weight, ...</summary>
    public IReadOnlyDictionary<string, (float[] Data, long[] Shape)> Weights { get; }

    public string OnnxPath => Path.Combine(Directory, "model.onnx");

    public string VocabPath => Path.Combine(Directory, Manifest.Tokenizer.Vocab);

    public static BaseEncoder Load(string directory)
    {
        var manifestPath = Path.Combine(directory, ModelManifest.FileName);
        if (!File.Exists(manifestPath))
            throw new FileNotFoundException($"{directory} is not a base model folder: {ModelManifest.FileName} is missing (e.g. use --base models/minilm-l6).", manifestPath);
        var manifest = PeftJson.Load<ModelManifest>(manifestPath);
        if (manifest.Architecture.Type != "bert")
            throw new NotSupportedException($"{directory}: architecture '{manifest.Architecture.Type}' is not a BERT-family encoder; the trainer supports bert.");
        var onnx = Path.Combine(directory, "model.onnx");
        if (!File.Exists(onnx))
            throw new FileNotFoundException($"{onnx} is missing; pull the base model first (peftonnx models pull {manifest.Name}).", onnx);
        return new BaseEncoder(directory, manifest, BertConfig.FromArchitecture(manifest.Architecture), HfStateDict.FromOnnx(onnx));
    }

    /// <summary>A classifier on this encoder with the base weights loaded and a freshly initialised head.</summary>
    public BertForSequenceClassification CreateClassifier(int numLabels, Pooling pooling, bool multiLabel = false)
    {
        var model = new BertForSequenceClassification(Config, numLabels, pooling, multiLabel);
        EncoderWeights.Load(model.Bert, Weights);
        return model;
    }
}
