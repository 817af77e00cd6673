using System.Text.Json;
using System.Text.Json.Nodes;
using Onnx;
using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Hashing;
using PeftOnnx.Core.IO;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.Models;
using PeftOnnx.Core.Numerics;
using PeftOnnx.Onnx.Modules;
using PeftOnnx.Onnx.Passes;

namespace PeftOnnx.Onnx.Export;

/// <summary>
/// Base model folder + PEFT adapter -> bundle folder (model.onnx with the adapter merged, the vocab, bundle.json).
/// Everything is computed in memory first and written through <see cref="AtomicFolder"/>, so a failure leaves no
/// output behind. Provenance (base and adapter sha256, the adapter config) goes into bundle.json and the ONNX
/// metadata_props.
/// </summary>
public sealed class BundleExporter(IProgress<string>? progress = null)
{
    public const string ToolName = "peftonnx-export export";
    public const string LastHiddenState = "last_hidden_state";
    public const string PoolerOutput = "pooler_output";

    private static readonly string[] Precisions = ["fp32", "fp16"];
    private static readonly string[] Quantizations = ["none", "int8"];
    private static readonly string[] HeadModules = ["classifier", "score"];

    public BundleExportResult Export(BundleExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Precisions.Contains(options.Precision))
            throw new ArgumentException($"--precision should be one of {string.Join(", ", Precisions)}, got \"{options.Precision}\".", nameof(options));
        if (!Quantizations.Contains(options.Quantize))
            throw new ArgumentException($"--quantize should be one of {string.Join(", ", Quantizations)}, got \"{options.Quantize}\".", nameof(options));
        if (options.Precision == "fp16" && options.Quantize == "int8")
            throw new ArgumentException("--precision fp16 and --quantize int8 exclude each other: int8 quantizes the fp32 weights; pick one.", nameof(options));
        var output = Path.GetFullPath(options.OutputDirectory);
        if (Directory.Exists(output) && !options.Force)
            throw new IOException($"{output} already exists; pass --overwrite to replace it, or choose another --output.");

        var (manifest, modelPath, vocabPath) = BaseModelFolder.Read(options.BaseDirectory);

        if (FineTunedModelFolder.IsFineTunedModel(options.AdapterDirectory))
            return ExportFineTuned(options, output, manifest, modelPath, vocabPath);

        progress?.Report($"reading adapter {options.AdapterDirectory}");
        var adapter = PeftAdapter.Load(options.AdapterDirectory);
        var merge = AdapterMerge.For(adapter);
        var warnings = new List<string>(merge.Warnings);
        var task = TrainedTask.Read(options.AdapterDirectory);
        var head = ReadHead(adapter, options.Labels, manifest, warnings) is { } read ? read with { MultiLabel = task.IsMultiLabel } : null;

        progress?.Report($"reading base model {modelPath}");
        var model = OnnxModelFile.Load(modelPath);
        var baseSha256 = FileSha256.Of(modelPath);
        AdapterBaseCheck.Require(adapter.Directory, adapter.Config.BaseModelNameOrPath, BaseModelIdentity.Of(manifest, baseSha256), options.AllowBaseMismatch, warnings);
        var modules = ModuleMap.Build(model);
        RequireTargets(adapter.Config, modules, manifest.Name, warnings);

        progress?.Report($"merging {merge.Modules.Count} modules ({adapter.Config.PeftType}) in float64");
        var merged = model.Applied(new AdapterMergePass(merge, modules, manifest.Name)).Modules;

        var bundle = WriteBundle(options, output, manifest, vocabPath, model, head, task, baseSha256, adapter.WeightsSha256, adapter.Config.PeftType, adapter.RawConfig);
        return new BundleExportResult(output, bundle, merged, warnings);
    }

    /// <summary>
    /// What every merged export ends with: the classifier head (if any) appended, the precision applied, bundle.json
    /// and ONNX metadata with provenance, and the folder written atomically.
    /// </summary>
    private BundleManifest WriteBundle(BundleExportOptions options, string output, ModelManifest manifest, string vocabPath, ModelProto model,
        ClassificationHead? head, TrainedTask task, string baseSha256, string weightsSha256, string peftType, JsonObject sourceConfig)
    {
        var outputs = new Dictionary<string, string>(manifest.Outputs);
        if (head is not null)
        {
            progress?.Report($"appending classifier ({head.LabelCount} labels, {head.Pooling.ToString().ToLowerInvariant()} pooling)");
            var hidden = manifest.Outputs.GetValueOrDefault(LastHiddenState, LastHiddenState);
            model.Apply(new ClassificationHeadPass(head, hidden, manifest.Outputs.GetValueOrDefault(PoolerOutput)));
            outputs = new Dictionary<string, string>
            {
                ["logits"] = ClassificationHeadPass.LogitsOutput,
                ["probabilities"] = ClassificationHeadPass.ProbabilitiesOutput,
            };
            if (options.ClsOnlyLastLayer && head.Pooling == HeadPooling.Pooler)
                ApplyClsOnlyLastLayer(model, progress);
        }

        var precision = ApplyPrecision(model, options);
        var optimize = options.Edge && precision != "fp16" ? options.OptimizeForEdge : null;
        var bundle = new BundleManifest
        {
            Name = options.Name ?? Path.GetFileName(output),
            Task = head is null ? BundleTask.FeatureExtraction : BundleTask.SequenceClassification,
            Tokenizer = manifest.Tokenizer with { Vocab = Path.GetFileName(vocabPath) },
            Labels = head?.Labels,
            ProblemType = head is null ? null : task.ProblemType,
            Thresholds = head is null ? null : task.Thresholds,
            Pooling = head is null ? manifest.Pooling : head.Pooling == HeadPooling.Pooler ? "pooler" : "mean",
            Normalize = head is null && manifest.Normalize,
            Precision = precision,
            Outputs = outputs,
            Mode = "merged",
            Model = ModelFileName(optimize),
            GraphOptimization = optimize is null ? null : BundleManifest.ExtendedOptimization,
            Provenance = new BundleProvenance
            {
                BaseModel = manifest.Name,
                BaseSha256 = baseSha256,
                AdapterSha256 = weightsSha256,
                PeftType = peftType,
                AdapterConfig = options.Edge ? null : (JsonObject)sourceConfig.DeepClone(),
                Tool = ToolName,
                CreatedAt = DateTimeOffset.UtcNow,
            },
        };
        bundle.ValidateProblem(Path.Combine(options.AdapterDirectory, "training.json"));
        WriteMetadata(model, bundle, manifest.Architecture.MaxPosition);

        progress?.Report($"writing {output}");
        AtomicFolder.Write(output, options.Force, "--overwrite", tmp =>
        {
            SaveModel(model, tmp, bundle.Model, optimize, progress);
            File.Copy(vocabPath, Path.Combine(tmp, bundle.Tokenizer.Vocab));
            PeftJson.Save(Path.Combine(tmp, BundleManifest.FileName), bundle);
        });
        return bundle;
    }


    /// <summary>The bundle's model file name: ONNX, or ONNX Runtime's format when the model is saved optimized for the edge.</summary>
    internal static string ModelFileName(Action<string, string>? optimize) => optimize is null ? "model.onnx" : BundleManifest.OrtModelFile;

    /// <summary>Writes <paramref name="model"/> into <paramref name="folder"/> as <paramref name="fileName"/>: as it is, or through <paramref name="optimize"/> (ONNX in, ORT format out).</summary>
    internal static void SaveModel(ModelProto model, string folder, string fileName, Action<string, string>? optimize, IProgress<string>? progress)
    {
        if (optimize is null)
        {
            OnnxModelFile.Save(model, Path.Combine(folder, fileName));
            return;
        }
        progress?.Report("saving the model as ONNX Runtime optimizes it (extended level), in ONNX Runtime's format, so the edge runtime loads it without parsing or optimizing");
        var onnx = Path.Combine(folder, "model.onnx");
        OnnxModelFile.Save(model, onnx);
        optimize(onnx, Path.Combine(folder, fileName));
        File.Delete(onnx);
    }

    /// <summary>A full fine-tune or linear probe (transformers folder): its weights replace the base graph's, its classifier is the head.</summary>
    private BundleExportResult ExportFineTuned(BundleExportOptions options, string output, ModelManifest manifest, string modelPath, string vocabPath)
    {
        if (!manifest.Outputs.ContainsKey(PoolerOutput))
            throw new InvalidDataException($"{manifest.Name} has no pooler output; a fine-tuned BertForSequenceClassification needs it.");
        var folder = FineTunedModelFolder.Open(options.AdapterDirectory);
        progress?.Report($"reading base model {modelPath}");
        var model = OnnxModelFile.Load(modelPath);
        var baseSha256 = FileSha256.Of(modelPath);
        var warnings = new List<string>();
        AdapterBaseCheck.Require(options.AdapterDirectory, null, BaseModelIdentity.Of(manifest, baseSha256), options.AllowBaseMismatch, warnings);
        progress?.Report($"replacing the encoder weights with {folder.WeightsPath}");
        var task = TrainedTask.Read(options.AdapterDirectory);
        var head = folder.ApplyTo(model, options.Labels, HeadPooling.Pooler) with { MultiLabel = task.IsMultiLabel };
        var bundle = WriteBundle(options, output, manifest, vocabPath, model, head, task, baseSha256, FileSha256.Of(folder.WeightsPath), "FULL_FINE_TUNE", folder.Config);
        return new BundleExportResult(output, bundle, [], warnings);
    }

    /// <summary>The classifier saved through modules_to_save, with its labels; null for a feature-extraction adapter.</summary>
    private static ClassificationHead? ReadHead(PeftAdapter adapter, IReadOnlyList<string>? labels, ModelManifest manifest, List<string> warnings)
    {
        var headTensors = adapter.Tensors.Where(t => !t.Key.InEncoder && !AdapterMethods.IsMethodParameter(t.Key.Parameter)).ToList();
        var stray = headTensors.Where(t => !HeadModules.Contains(t.Key.Module)).Select(t => t.Name).ToList();
        if (stray.Count > 0)
            throw new InvalidDataException($"{adapter.WeightsPath}: tensors {string.Join(", ", stray)} belong to no encoder module and are not a classifier; PeftOnnx cannot place them.");
        var module = HeadModules.FirstOrDefault(m => headTensors.Any(t => t.Key.Module == m));
        if (module is null)
        {
            if (labels is not null)
                throw new InvalidDataException($"--labels was given but {adapter.Directory} has no classifier (modules_to_save \"classifier\"); a feature-extraction adapter has no labels.");
            return null;
        }

        var weight = headTensors.FirstOrDefault(t => t.Key.Module == module && t.Key.Parameter == "weight")
            ?? throw new InvalidDataException($"{adapter.WeightsPath} has a {module} bias but no {module}.weight.");
        if (weight.Shape.Length != 2)
            throw new InvalidDataException($"{weight.Name} has shape {weight.ShapeText}; a classifier weight is [labels, hidden].");
        var matrix = weight.AsMatrix();
        var bias = headTensors.FirstOrDefault(t => t.Key.Module == module && t.Key.Parameter == "bias")?.Data ?? new double[matrix.Rows];
        if (bias.Length != matrix.Rows)
            throw new InvalidDataException($"shape mismatch: {module}.bias has {bias.Length} values but {weight.Name} is {matrix.Shape} ([labels, hidden]).");
        FiniteValues.Require(matrix, $"adapter tensor {weight.Name}");
        FiniteValues.Require(bias, $"adapter tensor {module}.bias");
        if (labels is not null && labels.Count != matrix.Rows)
            throw new ArgumentException($"--labels names {labels.Count} labels but the classifier {weight.Name} {matrix.Shape} has {matrix.Rows} outputs.");
        labels ??= [.. Enumerable.Range(0, matrix.Rows).Select(i => $"label_{i}")];

        var hasPooler = manifest.Outputs.ContainsKey(PoolerOutput);
        if (!hasPooler)
            warnings.Add($"{manifest.Name} has no pooler output; the classifier reads mean-pooled token states (BertForSequenceClassification reads tanh(pooler.dense(h[:,0])), so a PEFT-trained classifier may disagree).");
        return new ClassificationHead(matrix, bias, labels, hasPooler ? HeadPooling.Pooler : HeadPooling.Mean);
    }

    /// <summary>target_modules must select at least one Linear module of the base (PEFT raises otherwise).</summary>
    internal static void RequireTargets(PeftAdapterConfig config, ModuleMap modules, string baseName, ICollection<string> warnings) =>
        config.CreateMatcher()?.RequireAnyMatch([.. modules.Linears.Select(l => l.Name)], baseName, modules.Summary(), warnings);

    /// <summary>The [CLS]-only last layer for a pooler head (merged and side bundles); the log says whether it applied.</summary>
    internal static void ApplyClsOnlyLastLayer(ModelProto model, IProgress<string>? progress)
    {
        var report = model.Apply(new ClsOnlyLastLayerPass()); // not inside progress?.Report(...): a null progress would skip the call
        progress?.Report(report.ToString());
    }

    /// <summary>The edge passes, after merging and the head: fp16 weights and compute, or int8 dynamic quantization.</summary>
    private string ApplyPrecision(ModelProto model, BundleExportOptions options)
    {
        IGraphPass? pass = (options.Precision, options.Quantize) switch
        {
            ("fp16", _) => new Fp16ConversionPass(),
            (_, "int8") => new DynamicInt8QuantizationPass(),
            _ => null,
        };
        if (pass is null)
            return "fp32";
        var report = model.Apply(pass); // not inside progress?.Report(...): a null progress would skip the call
        progress?.Report(report.ToString());
        return options.Quantize == "int8" ? "int8" : options.Precision;
    }

    /// <summary>
    /// Provenance in the ONNX file itself, so a model.onnx separated from its bundle.json still says what it is, and the
    /// position table's size, which the runtime checks max_length against at load (the model file is hashed, bundle.json is not).
    /// </summary>
    internal static void WriteMetadata(ModelProto model, BundleManifest bundle, int maxPosition)
    {
        var entries = new Dictionary<string, string>
        {
            ["peftonnx.format"] = bundle.Format,
            ["peftonnx.mode"] = bundle.Mode,
            ["peftonnx.precision"] = bundle.Precision,
            ["peftonnx.base_model"] = bundle.Provenance.BaseModel ?? "",
            ["peftonnx.base_sha256"] = bundle.Provenance.BaseSha256 ?? "",
            ["peftonnx.adapter_sha256"] = bundle.Provenance.AdapterSha256 ?? "",
            ["peftonnx.peft_type"] = bundle.Provenance.PeftType ?? "",
            ["peftonnx.tool"] = ToolName,
            [BundleManifest.MaxPositionMetadata] = maxPosition.ToString(System.Globalization.CultureInfo.InvariantCulture), // max_length checked against it at load
        };
        if (bundle.Provenance.AdapterConfig is { } config)
            entries["peftonnx.adapter_config"] = config.ToJsonString();
        if (bundle.Labels is not null)
            entries["peftonnx.labels"] = JsonSerializer.Serialize(bundle.Labels);
        foreach (var (key, value) in entries)
        {
            var existing = model.MetadataProps.FirstOrDefault(p => p.Key == key);
            if (existing is not null)
                existing.Value = value;
            else
                model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }
    }

}
