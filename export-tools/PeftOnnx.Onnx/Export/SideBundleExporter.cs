using PeftOnnx.Core.Adapters.Lora;
using PeftOnnx.Onnx.Methods.Lora;
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
using PeftOnnx.Onnx.Side;

namespace PeftOnnx.Onnx.Export;

/// <summary>
/// Base model + PEFT adapters -> side-graph bundle: model.onnx with adapter inputs (LoRA branches, prompt/prefix
/// tables, bottleneck adapters), bundle.json (mode "side" or "mixed"), side.json (the adapter inputs, for the
/// runtime's checks) and adapters/&lt;name&gt;.onnx_adapter (ONNX Runtime's adapter format) for every adapter.
/// All-or-nothing like <see cref="BundleExporter"/>.
/// </summary>
public sealed class SideBundleExporter(IProgress<string>? progress = null)
{
    public const string ToolName = "peftonnx-export export --mode side";

    public BundleExportResult Export(SideBundleOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Form is not (SideGraphManifest.SideForm or SideGraphManifest.MixedForm))
            throw new ArgumentException($"side-graph form should be side or mixed, got \"{options.Form}\".", nameof(options));
        if (options.AdapterDirectories.Count == 0)
            throw new ArgumentException("a side bundle needs at least one adapter (--adapter).", nameof(options));
        var output = Path.GetFullPath(options.OutputDirectory);
        if (Directory.Exists(output) && !options.Force)
            throw new IOException($"{output} already exists; pass --overwrite to replace it, or choose another --output.");

        var (manifest, modelPath, vocabPath) = BaseModelFolder.Read(options.BaseDirectory);
        var adapters = options.AdapterDirectories.Select(d => { progress?.Report($"reading adapter {d}"); return PeftAdapter.Load(d); }).ToList();
        var mixed = options.Form == SideGraphManifest.MixedForm;
        // LoRA last: its branches rewire the projections' outputs, which the other methods' passes find their sites by.
        var peftTypes = adapters.Select(a => a.Config.PeftType).Distinct().OrderBy(t => t == LoraConfig.TypeName).ToList();
        if (peftTypes.Count > 1 && !mixed)
            throw new InvalidDataException($"the adapters are {string.Join(", ", peftTypes)}; one side bundle serves one adapter method, or several in the mixed form (--mode mixed).");
        var names = adapters.Select(a => AdapterName(a.Directory)).ToList();
        var duplicate = names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"two adapters are named {duplicate.Key} (the folder name); rename one folder.", nameof(options));

        progress?.Report($"reading base model {modelPath}");
        var model = OnnxModelFile.Load(modelPath);
        var baseSha256 = FileSha256.Of(modelPath);
        var map = ModuleMap.Build(model);
        var identity = BaseModelIdentity.Of(manifest, baseSha256);
        var warnings = new List<string>();
        foreach (var adapter in adapters)
        {
            AdapterBaseCheck.Require(adapter.Directory, adapter.Config.BaseModelNameOrPath, identity, options.AllowBaseMismatch, warnings);
            BundleExporter.RequireTargets(adapter.Config, map, manifest.Name, warnings);
        }

        var methods = peftTypes.Select(t => SideGraphMethods.For(t, mixed)).ToList();
        var side = methods
            .Select(m => m.Build(new SideGraphRequest(model, map, manifest.Name, [.. adapters.Where(a => a.Config.PeftType == m.PeftType)], options, progress)))
            .Aggregate((a, b) => a with
            {
                PeftType = $"{a.PeftType}+{b.PeftType}",
                MaxRank = Math.Max(a.MaxRank, b.MaxRank),
                AdapterIndexInput = a.AdapterIndexInput ?? b.AdapterIndexInput,
                Lora = [.. a.Lora, .. b.Lora],
                Parameters = [.. a.Parameters, .. b.Parameters],
            });
        var peftType = side.PeftType;

        side = side with { BaseHubId = identity.HubId, BaseSha256 = identity.Sha256 };
        var head = SideHead.Read(adapters[0], options.Labels, manifest);
        var multiLabel = adapters.FirstOrDefault(a => TrainedTask.Read(a.Directory).IsMultiLabel);
        if (head is not null && multiLabel is not null)
            throw new NotSupportedException($"{multiLabel.Directory} is a multi-label classifier; side bundles serve single-label classifiers only. Export it merged (without --mode side).");
        var outputs = new Dictionary<string, string>(manifest.Outputs);
        if (head is not null)
        {
            progress?.Report($"appending per-adapter classifier ({head.LabelCount} labels)");
            var hidden = manifest.Outputs.GetValueOrDefault(BundleExporter.LastHiddenState, BundleExporter.LastHiddenState);
            model.Apply(new ClassificationHeadPass(head, hidden, manifest.Outputs.GetValueOrDefault(BundleExporter.PoolerOutput)));
            var headSlots = model.Applied(new AdapterHeadPass(head, mixed ? MixedLoraPass.AdapterIndexInput : null)).Slots;
            side = side with { Parameters = [.. side.Parameters, .. headSlots] };
            if (options.ClsOnlyLastLayer && head.Pooling == HeadPooling.Pooler)
                BundleExporter.ApplyClsOnlyLastLayer(model, progress);
            outputs = new Dictionary<string, string>
            {
                ["logits"] = ClassificationHeadPass.LogitsOutput,
                ["probabilities"] = ClassificationHeadPass.ProbabilitiesOutput,
            };
        }

        var baseWeights = SideBaseWeights.FromOnnx(modelPath);
        var files = new List<(string Name, byte[] Bytes)>();
        for (var i = 0; i < adapters.Count; i++)
        {
            progress?.Report($"converting {names[i]} to {Core.OrtAdapters.OrtAdapterFile.Extension}");
            files.Add((names[i], SideAdapterWriter.Convert(adapters[i], side, baseWeights).ToBytes()));
        }

        var bundle = new BundleManifest
        {
            Name = options.Name ?? Path.GetFileName(output),
            Task = head is null ? BundleTask.FeatureExtraction : BundleTask.SequenceClassification,
            Tokenizer = manifest.Tokenizer with { Vocab = Path.GetFileName(vocabPath) },
            Labels = head?.Labels,
            Pooling = head is null ? manifest.Pooling : "pooler",
            Normalize = head is null && manifest.Normalize,
            Precision = "fp32",
            Outputs = outputs,
            Mode = options.Form,
            Provenance = new BundleProvenance
            {
                BaseModel = manifest.Name,
                BaseSha256 = baseSha256,
                AdapterSha256 = adapters[0].WeightsSha256,
                PeftType = peftType,
                AdapterConfig = (JsonObject)adapters[0].RawConfig.DeepClone(),
                Tool = ToolName,
                CreatedAt = DateTimeOffset.UtcNow,
            },
        };
        model.MetadataProps.Add(new StringStringEntryProto { Key = "peftonnx.mode", Value = options.Form });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "peftonnx.base_model", Value = manifest.Name });

        progress?.Report($"writing {output}");
        AtomicFolder.Write(output, options.Force, "--overwrite", tmp =>
        {
            OnnxModelFile.Save(model, Path.Combine(tmp, bundle.Model));
            File.Copy(vocabPath, Path.Combine(tmp, bundle.Tokenizer.Vocab));
            PeftJson.Save(Path.Combine(tmp, BundleManifest.FileName), bundle);
            PeftJson.Save(Path.Combine(tmp, SideGraphManifest.FileName), side);
            var folder = Path.Combine(tmp, SideGraphManifest.AdapterFolder);
            Directory.CreateDirectory(folder);
            foreach (var (name, bytes) in files)
                File.WriteAllBytes(Path.Combine(folder, name + Core.OrtAdapters.OrtAdapterFile.Extension), bytes);
        });
        return new BundleExportResult(output, bundle, [.. side.Lora.Select(s => s.Module).Concat(side.Parameters.Select(p => p.Name))], warnings);
    }

    /// <summary>
    /// Converts one more adapter for an existing side bundle (checked against its side.json, its base included unless
    /// <paramref name="allowBaseMismatch"/>, which stamps the file with this bundle's base).
    /// </summary>
    public static string WriteAdapter(string bundleDirectory, string adapterDirectory, string? name = null, bool allowBaseMismatch = false)
    {
        var sidePath = Path.Combine(bundleDirectory, SideGraphManifest.FileName);
        if (!File.Exists(sidePath))
            throw new FileNotFoundException($"{bundleDirectory} is not a side-graph bundle: it has no {SideGraphManifest.FileName}; export one with --mode side.", sidePath);
        var side = PeftJson.Load<SideGraphManifest>(sidePath);
        var adapter = PeftAdapter.Load(adapterDirectory);
        AdapterBaseCheck.Require(adapter.Directory, adapter.Config.BaseModelNameOrPath, side.BaseIdentity(), allowBaseMismatch, new List<string>());
        var bundle = PeftJson.Load<BundleManifest>(Path.Combine(bundleDirectory, BundleManifest.FileName));
        var file = SideAdapterWriter.Convert(adapter, side, SideBaseWeights.FromOnnx(Path.Combine(bundleDirectory, bundle.Model)));
        var path = Path.Combine(bundleDirectory, SideGraphManifest.AdapterFolder, (name ?? AdapterName(adapter.Directory)) + Core.OrtAdapters.OrtAdapterFile.Extension);
        file.Save(path);
        return path;
    }

    /// <summary>The adapter's name in the registry: its folder name.</summary>
    public static string AdapterName(string directory) =>
        Path.GetFileName(Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));


}
