using System.Text.Json.Nodes;
using Onnx;
using PeftOnnx.Core.Numerics;
using PeftOnnx.Core.SafeTensors;
using PeftOnnx.Onnx.Modules;
using PeftOnnx.Onnx.Passes;

namespace PeftOnnx.Onnx.Export;

/// <summary>
/// A fully fine-tuned (or linear-probe) model as transformers saves it and `peftonnx-export train --method full|probe`
/// writes it: config.json + model.safetensors with BertForSequenceClassification keys (bert.…, classifier.…).
/// Its encoder weights replace the base ONNX graph's, and its classifier becomes the bundle's head.
/// </summary>
public sealed class FineTunedModelFolder
{
    public const string WeightsFile = "model.safetensors";
    public const string ConfigFile = "config.json";
    private const string EncoderPrefix = "bert.";

    private FineTunedModelFolder(string directory, JsonObject config)
    {
        Directory = directory;
        Config = config;
    }

    public string Directory { get; }

    public string WeightsPath => Path.Combine(Directory, WeightsFile);

    public JsonObject Config { get; }

    /// <summary>A folder with model.safetensors and config.json but no adapter_config.json.</summary>
    public static bool IsFineTunedModel(string directory) =>
        File.Exists(Path.Combine(directory, WeightsFile)) && File.Exists(Path.Combine(directory, ConfigFile))
        && !File.Exists(Path.Combine(directory, "adapter_config.json"));

    public static FineTunedModelFolder Open(string directory)
    {
        var configPath = Path.Combine(directory, ConfigFile);
        try
        {
            return new FineTunedModelFolder(directory, JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject
                ?? throw new InvalidDataException($"{configPath} is not a JSON object."));
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"{configPath} is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>
    /// Writes every encoder parameter of the folder into <paramref name="model"/>'s initializers (shapes checked, NaN/Inf
    /// refused) and returns the classifier head; every tensor must be placed, every encoder parameter present.
    /// </summary>
    public ClassificationHead ApplyTo(ModelProto model, IReadOnlyList<string>? labels, HeadPooling pooling)
    {
        ArgumentNullException.ThrowIfNull(model);
        HfStateDict.Write(model, ReadEncoder(HfStateDict.FromModel(model)));
        var (weight, bias) = ReadClassifier();
        if (labels is not null && labels.Count != weight.Rows)
            throw new ArgumentException($"{labels.Count} labels given but classifier.weight {weight.Shape} has {weight.Rows} outputs.");
        return new ClassificationHead(weight, bias, labels ?? ConfigLabels(weight.Rows), pooling);
    }

    /// <summary>
    /// The folder's encoder parameters under the keys and shapes of <paramref name="expected"/> (the base's state dict,
    /// <see cref="HfStateDict"/>): every one must be present with its shape and finite, and every tensor of the file must
    /// be one of them or the classifier.
    /// </summary>
    public Dictionary<string, (float[] Data, long[] Shape)> ReadEncoder(IReadOnlyDictionary<string, (float[] Data, long[] Shape)> expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        using var file = SafeTensorFile.Open(WeightsPath);
        var missing = expected.Keys.Where(k => !file.Contains(EncoderPrefix + k)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{WeightsPath} lacks {missing.Count} encoder parameters of the base model, e.g. {string.Join(", ", missing.Take(3).Select(k => EncoderPrefix + k))}; is it a fine-tune of this base?");
        var stray = file.Tensors.Select(t => t.Name).Where(n => !(n.StartsWith(EncoderPrefix, StringComparison.Ordinal) && expected.ContainsKey(n[EncoderPrefix.Length..])) && n is not ("classifier.weight" or "classifier.bias")).ToList();
        if (stray.Count > 0)
            throw new InvalidDataException($"{WeightsPath}: tensors {string.Join(", ", stray.Take(5))} match no module of the base model or the classifier.");
        var state = new Dictionary<string, (float[] Data, long[] Shape)>(StringComparer.Ordinal);
        foreach (var (key, (_, shape)) in expected)
            state[key] = (Read(file, EncoderPrefix + key, shape), shape);
        return state;
    }

    /// <summary>classifier.weight [labels, hidden] and classifier.bias (zeros when absent).</summary>
    public (Matrix64 Weight, double[] Bias) ReadClassifier()
    {
        using var file = SafeTensorFile.Open(WeightsPath);
        if (!file.Contains("classifier.weight"))
            throw new InvalidDataException($"{WeightsPath} has no classifier.weight; only sequence-classification models export this way.");
        var info = file["classifier.weight"];
        if (info.Shape.Length != 2)
            throw new InvalidDataException($"classifier.weight has shape [{string.Join(", ", info.Shape)}]; a classifier weight is [labels, hidden].");
        var (rows, cols) = ((int)info.Shape[0], (int)info.Shape[1]);
        var weight = Matrix64.FromFloat32(rows, cols, Read(file, "classifier.weight", info.Shape));
        var bias = file.Contains("classifier.bias") ? Read(file, "classifier.bias", [rows]).Select(v => (double)v).ToArray() : new double[rows];
        return (weight, bias);
    }

    /// <summary>id2label from config.json when it names every class, else label_0…label_N-1.</summary>
    private string[] ConfigLabels(int count)
    {
        var names = Config["id2label"] as JsonObject;
        var labels = Enumerable.Range(0, count).Select(i => names?[i.ToString(System.Globalization.CultureInfo.InvariantCulture)]?.GetValue<string>()).ToArray();
        return labels.All(l => !string.IsNullOrEmpty(l)) ? [.. labels.Select(l => l!)] : [.. Enumerable.Range(0, count).Select(i => $"label_{i}")];
    }

    private float[] Read(SafeTensorFile file, string name, long[] shape)
    {
        var info = file[name];
        if (!info.Shape.SequenceEqual(shape))
            throw new InvalidDataException($"shape mismatch: {name} is [{string.Join(", ", info.Shape)}] in {WeightsPath}, the base model needs [{string.Join(", ", shape)}].");
        var values = file.ReadFloat32(name);
        if (values.Any(v => !float.IsFinite(v)))
            throw new InvalidDataException($"{name} in {WeightsPath} holds NaN or infinite values.");
        return values;
    }
}
