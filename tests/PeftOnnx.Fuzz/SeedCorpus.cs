using System.Text;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.Models;
using PeftOnnx.Core.OrtAdapters;
using PeftOnnx.Core.SafeTensors;
using PeftOnnx.Fuzz.Targets;

namespace PeftOnnx.Fuzz;

/// <summary>
/// Writes the generated part of the seed corpus (`PeftOnnx.Fuzz seeds tests/PeftOnnx.Fuzz/corpus`): small valid files
/// made with the project's own writers, real PEFT adapter configs from tests/fixtures, and the shipped sample documents.
/// Inputs that once crashed a target (crash-*) are added by hand and never rewritten.
/// </summary>
public static class SeedCorpus
{
    public static void Write(string corpusRoot, string repoRoot)
    {
        using var scratch = new ScratchFolder("seeds");
        var safetensors = Folder(corpusRoot, "safetensors");
        WriteSafeTensors(scratch, safetensors, "seed-lora-f32", [
            SafeTensor.FromFloat32("base_model.model.encoder.layer.0.attention.self.query.lora_A.weight", [0.5f, -1, 2, 0.25f, 0, 3], 2, 3),
            SafeTensor.FromFloat32("base_model.model.encoder.layer.0.attention.self.query.lora_B.weight", [1, 2, 3, 4, 5, 6], 3, 2)],
            new Dictionary<string, string> { ["format"] = "pt" });
        WriteSafeTensors(scratch, safetensors, "seed-mixed-dtypes", [
            new SafeTensor("half", SafeTensorDType.F16, [2], [0x00, 0x3C, 0x00, 0xC0]),
            new SafeTensor("brain", SafeTensorDType.BF16, [1, 2], [0x80, 0x3F, 0x00, 0x40]),
            new SafeTensor("double", SafeTensorDType.F64, [1], BitConverter.GetBytes(1.5)),
            SafeTensor.FromInt64("ids", [1, -2, 3], 3),
            new SafeTensor("mask", SafeTensorDType.Bool, [2, 2], [1, 0, 0, 1]),
            new SafeTensor("bytes", SafeTensorDType.U8, [3], [7, 8, 9]),
            new SafeTensor("scalar", SafeTensorDType.I32, [], [1, 0, 0, 0]),
            new SafeTensor("empty", SafeTensorDType.F32, [0, 4], [])]);
        WriteSafeTensors(scratch, safetensors, "seed-no-tensors", [], new Dictionary<string, string> { ["note"] = "no tensors" });

        var adapters = Folder(corpusRoot, "onnx-adapter");
        File.WriteAllBytes(Path.Combine(adapters, "seed-lora-pair"), new OrtAdapterFile([
            OrtAdapterParameter.FromFloat32("encoder.layer.0.attention.self.query.lora_A", [1, 2, 3, 4, 5, 6], 3, 2),
            OrtAdapterParameter.FromFloat32("encoder.layer.0.attention.self.query.lora_B", [0.5f, 0.25f], 2, 1)], adapterVersion: 3, modelVersion: 1).ToBytes());
        File.WriteAllBytes(Path.Combine(adapters, "seed-mixed-types"), new OrtAdapterFile([
            new OrtAdapterParameter("ids", [2], OrtAdapterDataType.Int64, new byte[16]),
            new OrtAdapterParameter("half", [1, 2], OrtAdapterDataType.Float16, [0x00, 0x3C, 0x00, 0xC0]),
            new OrtAdapterParameter("flags", [3], OrtAdapterDataType.Bool, [1, 0, 1])]).ToBytes());
        File.WriteAllBytes(Path.Combine(adapters, "seed-empty"), new OrtAdapterFile([]).ToBytes());

        var configs = Folder(corpusRoot, "adapter-config");
        foreach (var fixture in Directory.EnumerateDirectories(Path.Combine(repoRoot, "tests", "fixtures", "peft")).Order(StringComparer.Ordinal))
        {
            var config = Path.Combine(fixture, "adapter_config.json");
            if (File.Exists(config))
                File.Copy(config, Path.Combine(configs, $"fixture-{Path.GetFileName(fixture)}"), overwrite: true);
        }
        File.Copy(Path.Combine(repoRoot, "models", "adapters", "debian-sections-lora-r8", "adapter_config.json"), Path.Combine(configs, "shipped-debian-sections-lora-r8"), overwrite: true);

        var bundles = Folder(corpusRoot, "bundle");
        var model = PeftJson.Load<ModelManifest>(Path.Combine(repoRoot, "models", "minilm-l6", "model.json"));
        var classifier = BundleManifest.FromBaseModel(model) with
        {
            Name = "debian-sections",
            Task = BundleTask.SequenceClassification,
            Labels = ["admin", "devel", "web"],
            Pooling = "pooler",
            Mode = "merged",
            Outputs = new Dictionary<string, string> { ["logits"] = "logits" },
        };
        var side = classifier with { Mode = "side", Precision = "int8", Labels = null, Task = BundleTask.FeatureExtraction };
        WriteJson(scratch, bundles, "seed-classifier", classifier);
        WriteJson(scratch, bundles, "seed-side", side);
        WriteJson(scratch, bundles, "seed-base", BundleManifest.FromBaseModel(model));

        var folders = Folder(corpusRoot, "model-folder");
        byte[] onnxHeader = [0x08, 0x07, 0x12, 0x07, 0x70, 0x79, 0x74, 0x6F, 0x72, 0x63, 0x68]; // ir_version 7, producer "pytorch"
        var vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\nserver\n##s\n"u8.ToArray();
        File.WriteAllBytes(Path.Combine(folders, "seed-bundle"),
            ModelFolderTarget.Input(0, File.ReadAllBytes(Path.Combine(bundles, "seed-classifier")), vocab, onnxHeader));
        File.WriteAllBytes(Path.Combine(folders, "seed-base-model"),
            ModelFolderTarget.Input(1, File.ReadAllBytes(Path.Combine(repoRoot, "models", "minilm-l6", "model.json")), vocab, onnxHeader));

        var bodies = Folder(corpusRoot, "http-body");
        File.WriteAllText(Path.Combine(bodies, "seed-texts"), """{"texts": ["first document", "second document"]}""");
        File.WriteAllText(Path.Combine(bodies, "seed-adapter"), """{"texts": ["apt-get install nginx"], "adapter": "debian-sections"}""");
        File.WriteAllText(Path.Combine(bodies, "seed-null-text"), """{"texts": [null, "\u00e9\ud83d\ude00"], "adapter": null}""");

        var documents = Folder(corpusRoot, "document");
        foreach (var sample in Directory.EnumerateFiles(Path.Combine(repoRoot, "samples"), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var extension = Path.GetExtension(sample).ToLowerInvariant();
            var index = Array.IndexOf(DocumentTarget.Extensions, extension);
            if (index < 0 || new FileInfo(sample).Length > 4096)
                continue;
            File.WriteAllBytes(Path.Combine(documents, $"sample-{Path.GetFileName(sample)}"), [(byte)index, .. File.ReadAllBytes(sample)]);
        }
        byte Ext(string extension) => (byte)Array.IndexOf(DocumentTarget.Extensions, extension);
        File.WriteAllBytes(Path.Combine(documents, "seed-jsonl"), [Ext(".jsonl"), .. "{\"text\": \"one\"}\n\n{\"id\": 2}\nnot json\n"u8]);
        File.WriteAllBytes(Path.Combine(documents, "seed-csv"), [Ext(".csv"), .. "id,text\n1,\"quoted, with \"\"quotes\"\"\nand a line break\"\n2\n"u8]);
    }

    private static string Folder(string root, string target)
    {
        var folder = Path.Combine(root, target);
        Directory.CreateDirectory(folder);
        return folder;
    }

    private static void WriteSafeTensors(ScratchFolder scratch, string folder, string name, SafeTensor[] tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var path = Path.Combine(scratch.Path, name);
        SafeTensorWriter.Write(path, tensors, metadata);
        File.Copy(path, Path.Combine(folder, name), overwrite: true);
    }

    private static void WriteJson<T>(ScratchFolder scratch, string folder, string name, T value)
    {
        var path = Path.Combine(scratch.Path, name);
        PeftJson.Save(path, value);
        File.WriteAllText(Path.Combine(folder, name), File.ReadAllText(path, Encoding.UTF8));
    }
}
