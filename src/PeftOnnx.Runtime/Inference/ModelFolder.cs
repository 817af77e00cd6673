using Microsoft.Extensions.Logging;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.Models;
using PeftOnnx.Runtime.Sessions;
using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Runtime.Inference;

/// <summary>
/// A model folder on disk before anything is loaded: a bundle (bundle.json) or a pulled base model
/// (model.json, described as a feature-extraction bundle). The files the manifest names must be plain file names of
/// the folder and exist; a bundle's files must match the sha256 its bundle.json records (<see cref="BundleFiles"/>),
/// unless verification is skipped. A bundle that records no hashes (exported before they were recorded) is loaded
/// with a warning.
/// </summary>
public sealed class ModelFolder
{
    private ModelFolder(string directory, BundleManifest manifest, string modelPath, string vocabPath)
    {
        Directory = directory;
        Manifest = manifest;
        ModelPath = modelPath;
        VocabPath = vocabPath;
    }

    public string Directory { get; }

    public BundleManifest Manifest { get; }

    public string ModelPath { get; }

    public string VocabPath { get; }

    /// <summary>Session settings for this folder's model: <paramref name="settings"/>, with optimization off for a model saved optimized.</summary>
    public SessionSettings SessionSettings(SessionSettings settings) =>
        settings with { ModelPreOptimized = Manifest.GraphOptimization == BundleManifest.ExtendedOptimization };

    /// <summary>Opens <paramref name="directory"/>; <paramref name="verify"/> false skips the sha256 check (`--skip-verify`).</summary>
    public static ModelFolder Open(string directory, bool verify = true, ILogger? logger = null)
    {
        if (!System.IO.Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Model folder {directory} does not exist; pass a bundle folder or a pulled base model (e.g. models/minilm-l6).");
        directory = Path.GetFullPath(directory);
        var bundlePath = Path.Combine(directory, BundleManifest.FileName);
        var modelPath = Path.Combine(directory, ModelManifest.FileName);
        BundleManifest manifest;
        var hint = "";
        var isBundle = File.Exists(bundlePath);
        if (isBundle)
        {
            manifest = PeftJson.Load<BundleManifest>(bundlePath);
            if (manifest.Format != BundleManifest.CurrentFormat)
                throw new InvalidDataException($"{bundlePath} has format '{manifest.Format}', this runtime reads '{BundleManifest.CurrentFormat}'; re-export the bundle.");
            if (manifest.GraphOptimization is { } optimization && optimization != BundleManifest.ExtendedOptimization)
                throw new InvalidDataException($"{bundlePath} has graph_optimization '{optimization}'; this runtime runs models saved at '{BundleManifest.ExtendedOptimization}' (or unoptimized, without the field); re-export the bundle.");
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

        var folder = new ModelFolder(directory, manifest,
            BundleFiles.Resolve(directory, manifest.Model, "model"), BundleFiles.Resolve(directory, manifest.Tokenizer.Vocab, "tokenizer.vocab"));
        foreach (var file in new[] { folder.ModelPath, folder.VocabPath })
        {
            if (!File.Exists(file))
                throw new FileNotFoundException($"{file} is missing{hint}.", file);
        }
        if (isBundle && verify)
        {
            string[] read = File.Exists(Path.Combine(directory, SideGraphManifest.FileName))
                ? [manifest.Model, manifest.Tokenizer.Vocab, SideGraphManifest.FileName]
                : [manifest.Model, manifest.Tokenizer.Vocab];
            if (!BundleFiles.Verify(directory, manifest, read))
                logger?.LogWarning("{Manifest} records no file hashes (exported before bundles were sealed), so its files are not verified; re-export the bundle to add them", bundlePath);
        }
        return folder;
    }

    public BertTokenizer LoadTokenizer() => BertTokenizer.FromFile(VocabPath, Manifest.Tokenizer);
}
