using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.Models;
using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Runtime.Inference;

/// <summary>
/// A model folder on disk before anything is loaded: a bundle (bundle.json) or a pulled base model
/// (model.json, described as a feature-extraction bundle). Checks that the files the manifest names exist.
/// </summary>
public sealed class ModelFolder
{
    private ModelFolder(string directory, BundleManifest manifest)
    {
        Directory = directory;
        Manifest = manifest;
    }

    public string Directory { get; }

    public BundleManifest Manifest { get; }

    public string ModelPath => Path.Combine(Directory, Manifest.Model);

    public string VocabPath => Path.Combine(Directory, Manifest.Tokenizer.Vocab);

    public static ModelFolder Open(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Model folder {directory} does not exist; pass a bundle folder or a pulled base model (e.g. models/minilm-l6).");
        directory = Path.GetFullPath(directory);
        var bundlePath = Path.Combine(directory, BundleManifest.FileName);
        var modelPath = Path.Combine(directory, ModelManifest.FileName);
        BundleManifest manifest;
        var hint = "";
        if (File.Exists(bundlePath))
        {
            manifest = PeftJson.Load<BundleManifest>(bundlePath);
            if (manifest.Format != BundleManifest.CurrentFormat)
                throw new InvalidDataException($"{bundlePath} has format '{manifest.Format}', this runtime reads '{BundleManifest.CurrentFormat}'; re-export the bundle.");
        }
        else if (File.Exists(modelPath))
        {
            var model = PeftJson.Load<ModelManifest>(modelPath);
            hint = $"; run `peftonnx models pull {model.Name}` first";
            manifest = BundleManifest.FromBaseModel(model);
        }
        else
        {
            throw new FileNotFoundException($"{directory} holds neither {BundleManifest.FileName} nor {ModelManifest.FileName}; pass a bundle folder or a base model folder such as models/minilm-l6.", bundlePath);
        }

        var folder = new ModelFolder(directory, manifest);
        foreach (var file in new[] { folder.ModelPath, folder.VocabPath })
        {
            if (!File.Exists(file))
                throw new FileNotFoundException($"{file} is missing{hint}.", file);
        }
        return folder;
    }

    public BertTokenizer LoadTokenizer() => BertTokenizer.FromFile(VocabPath, Manifest.Tokenizer);
}
