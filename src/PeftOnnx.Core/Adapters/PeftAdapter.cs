using System.Text.Json.Nodes;
using PeftOnnx.Core.Hashing;
using PeftOnnx.Core.SafeTensors;

namespace PeftOnnx.Core.Adapters;

/// <summary>
/// A Hugging Face PEFT adapter folder (adapter_config.json + adapter_model.safetensors), loaded and checked.
/// Pickled adapter_model.bin files are refused, never unpickled.
/// </summary>
public sealed class PeftAdapter
{
    public const string WeightsFileName = "adapter_model.safetensors";
    public const string PickleFileName = "adapter_model.bin";

    private PeftAdapter(string directory, PeftAdapterConfig config, JsonObject rawConfig, string weightsSha256, IReadOnlyList<AdapterTensor> tensors)
    {
        Directory = directory;
        Config = config;
        RawConfig = rawConfig;
        WeightsSha256 = weightsSha256;
        Tensors = tensors;
        Keys = new PeftKeys(config.TaskType);
        TensorsByName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    public string Directory { get; }
    public PeftAdapterConfig Config { get; }

    /// <summary>adapter_config.json as written, kept verbatim for provenance.</summary>
    public JsonObject RawConfig { get; }

    /// <summary>sha256 (lower-case hex) of adapter_model.safetensors.</summary>
    public string WeightsSha256 { get; }

    public PeftKeys Keys { get; }

    /// <summary>Every tensor of the file, in file order.</summary>
    public IReadOnlyList<AdapterTensor> Tensors { get; }

    public IReadOnlyDictionary<string, AdapterTensor> TensorsByName { get; }

    public string WeightsPath => Path.Combine(Directory, WeightsFileName);

    /// <summary>Reads a PEFT adapter folder; errors say which file is missing or wrong and what to do.</summary>
    public static PeftAdapter Load(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!System.IO.Directory.Exists(directory))
            throw new DirectoryNotFoundException($"adapter folder {directory} does not exist.");

        var weights = Path.Combine(directory, WeightsFileName);
        if (!File.Exists(weights))
        {
            if (File.Exists(Path.Combine(directory, PickleFileName)))
            {
                throw new InvalidDataException(
                    $"{Path.Combine(directory, PickleFileName)} is a pickled PyTorch file; PeftOnnx never unpickles (it can run arbitrary code). " +
                    "Convert it to safetensors in Python: PeftModel.from_pretrained(base, dir).save_pretrained(dir, safe_serialization=True), " +
                    $"which writes {WeightsFileName}.");
            }
            throw new FileNotFoundException($"{directory} has no {WeightsFileName}; a PEFT adapter folder holds {PeftAdapterConfig.FileName} and {WeightsFileName}.", weights);
        }

        var configPath = Path.Combine(directory, PeftAdapterConfig.FileName);
        var raw = PeftAdapterConfig.ReadObject(configPath);
        var config = PeftAdapterConfig.Parse((JsonObject)raw.DeepClone(), configPath);

        var keys = new PeftKeys(config.TaskType);
        var tensors = new List<AdapterTensor>();
        using (var file = SafeTensorFile.Open(weights))
        {
            foreach (var info in file.Tensors)
            {
                if (info.DType is not (SafeTensorDType.F32 or SafeTensorDType.F16 or SafeTensorDType.BF16 or SafeTensorDType.F64))
                    throw new InvalidDataException($"{weights}: tensor '{info.Name}' is {info.DType.HeaderName()}; adapter weights must be floating point.");
                tensors.Add(new AdapterTensor(keys.Parse(info.Name), info.Shape, file.ReadFloat64(info.Name)));
            }
        }
        if (tensors.Count == 0)
            throw new InvalidDataException($"{weights} holds no tensors; the adapter was saved before any module was wrapped.");
        return new PeftAdapter(Path.GetFullPath(directory), config, raw, FileSha256.Of(weights), tensors);
    }

    public bool TryGet(string name, out AdapterTensor tensor) => TensorsByName.TryGetValue(name, out tensor!);

    /// <summary>The tensor named <paramref name="name"/>; throws naming the tensor and the file when it is missing.</summary>
    public AdapterTensor Get(string name) => TensorsByName.TryGetValue(name, out var t)
        ? t
        : throw new InvalidDataException($"{WeightsPath} has no tensor '{name}'.");

}
