using PeftOnnx.Core.Json;
using PeftOnnx.Core.Models;

namespace PeftOnnx.Onnx.Export;

/// <summary>A pulled base model folder as the exporters need it: manifest, model.onnx and vocab, each checked to exist.</summary>
internal static class BaseModelFolder
{
    public static (ModelManifest Manifest, string Model, string Vocab) Read(string baseDirectory)
    {
        var dir = Path.GetFullPath(baseDirectory);
        var manifestPath = Path.Combine(dir, ModelManifest.FileName);
        if (!File.Exists(manifestPath))
            throw new FileNotFoundException($"{dir} is not a base model folder: it has no {ModelManifest.FileName} (pull one with `peftonnx models pull <name>`).", manifestPath);
        var manifest = PeftJson.Load<ModelManifest>(manifestPath);
        var model = Path.Combine(dir, "model.onnx");
        if (!File.Exists(model))
            throw new FileNotFoundException($"{dir} has no model.onnx; pull it with `peftonnx models pull {manifest.Name}`.", model);
        var vocab = Path.Combine(dir, manifest.Tokenizer.Vocab);
        if (!File.Exists(vocab))
            throw new FileNotFoundException($"{dir} has no {manifest.Tokenizer.Vocab} (the tokenizer vocab named by {ModelManifest.FileName}).", vocab);
        return (manifest, model, vocab);
    }
}
