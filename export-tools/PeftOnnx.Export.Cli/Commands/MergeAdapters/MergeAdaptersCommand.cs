using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Hashing;
using PeftOnnx.Core.IO;
using PeftOnnx.Core.Models;
using PeftOnnx.Training.Arithmetic;
using PeftOnnx.Training.Data;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Output;

namespace PeftOnnx.Export.Cli.Commands.MergeAdapters;

/// <summary>
/// `peftonnx-export merge-adapters`: PEFT's add_weighted_adapter on LoRA adapter folders of one base
/// (<see cref="WeightedAdapterMerge"/>), written as a PEFT adapter folder all-or-nothing. With --eval the merged adapter
/// and the inputs are scored on that data before the folder is committed. Summary on stdout, errors on stderr.
/// </summary>
internal static class MergeAdaptersCommand
{
    public static Command Create()
    {
        var baseModel = new Option<string>("--base", "-b") { Description = "Base model folder the adapters were trained on, e.g. models/minilm-l6.", Required = true };
        var adapters = new Option<string>("--adapters", "-a") { Description = "LoRA adapter folders, comma-separated; each is named by its folder name in messages and --head.", Required = true };
        var method = new Option<string>("--method") { Description = $"PEFT combination_type: {string.Join(", ", CombinationType.Names)}.", Required = true };
        method.AcceptOnlyFromAmong([.. CombinationType.Names]);
        var weights = new Option<string?>("--weights") { Description = "One weight per adapter, comma-separated (default: 1 each); negative weights subtract." };
        var density = new Option<double?>("--density") { Description = "Fraction of values kept by ties, dare_linear, dare_ties, magnitude_prune (and their _svd forms), in (0, 1]." };
        var sign = new Option<string>("--majority-sign-method") { Description = "How ties/dare_ties elect each sign: total (sign of the sum) or frequency (sign of the majority).", DefaultValueFactory = _ => "total" };
        sign.AcceptOnlyFromAmong("total", "frequency");
        var svdRank = new Option<int?>("--svd-rank") { Description = "Rank of an _svd method's result (default: the largest input rank)." };
        var svdClamp = new Option<double?>("--svd-clamp") { Description = "_svd methods: clamp both factors at this quantile of their values (PEFT's svd_clamp)." };
        var seed = new Option<ulong>("--seed") { Description = "Seed of DARE's random masks (reproducible; PEFT's torch.bernoulli draws cannot be matched).", DefaultValueFactory = _ => 0 };
        var head = new Option<string?>("--head") { Description = "The adapter (folder name) whose modules_to_save (classifier) the result keeps; needed when several have one." };
        var output = new Option<string>("--output", "-o") { Description = "Output folder: the merged PEFT adapter.", Required = true }.WithLegacyAlias("--out");
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing --output folder." };
        var eval = new Option<string?>("--eval") { Description = "Labelled data (.jsonl, .csv or a folder per label): print the accuracy of the inputs and of the merged adapter before the folder is written." };
        var maxLength = new Option<int>("--max-length") { Description = "Token limit for --eval.", DefaultValueFactory = _ => 128 };

        var command = new Command("merge-adapters", "Combine LoRA adapters of one base as PEFT's add_weighted_adapter does (cat, linear, ties, dare, magnitude_prune, their _svd forms) into a PEFT LoRA adapter.")
        {
            baseModel, adapters, method, weights, density, sign, svdRank, svdClamp, seed, head, output, overwrite, eval, maxLength,
        };
        command.SetAction(parseResult =>
        {
            var stdout = parseResult.InvocationConfiguration.Output;
            var stderr = parseResult.InvocationConfiguration.Error;
            try
            {
                var folders = SplitList(parseResult.GetValue(adapters)!, "--adapters");
                var weightValues = parseResult.GetValue(weights) is { } w ? ParseWeights(w) : [.. folders.Select(_ => 1.0)];
                if (weightValues.Length != folders.Length)
                    throw new ArgumentException($"--weights gives {weightValues.Length} weights ({string.Join(", ", weightValues.Select(v => v.ToString(CultureInfo.InvariantCulture)))}) for {folders.Length} adapters; give one weight per adapter.");
                var options = new WeightedMergeOptions
                {
                    Combination = CombinationType.Parse(parseResult.GetValue(method)!),
                    Density = parseResult.GetValue(density),
                    MajoritySign = parseResult.GetValue(sign) == "frequency" ? MajoritySignMethod.Frequency : MajoritySignMethod.Total,
                    SvdRank = parseResult.GetValue(svdRank),
                    SvdClamp = parseResult.GetValue(svdClamp),
                    Seed = parseResult.GetValue(seed),
                    Head = parseResult.GetValue(head),
                };
                var outputDir = Path.GetFullPath(parseResult.GetValue(output)!);
                if (Directory.Exists(outputDir) && !parseResult.GetValue(overwrite))
                    throw new IOException($"{outputDir} already exists; pass --overwrite to replace it, or choose another --output.");
                var evalRows = parseResult.GetValue(eval) is { } evalPath ? TextClassificationData.Read(evalPath) : null;

                var encoder = BaseEncoder.Load(parseResult.GetValue(baseModel)!);
                var baseSha256 = FileSha256.Of(encoder.OnnxPath);
                var identity = BaseModelIdentity.Of(encoder.Manifest, baseSha256);
                var inputs = new List<WeightedAdapter>();
                var warnings = new List<string>();
                for (var i = 0; i < folders.Length; i++)
                {
                    var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(folders[i]));
                    PeftAdapter adapter;
                    try
                    {
                        adapter = PeftAdapter.Load(folders[i]);
                        AdapterBaseCheck.Require(adapter.Directory, adapter.Config.BaseModelNameOrPath, identity, allowMismatch: false, warnings);
                    }
                    catch (Exception e) when (e is InvalidDataException or IOException)
                    {
                        throw new InvalidDataException($"adapter {name}: {e.Message}", e);
                    }
                    inputs.Add(new WeightedAdapter(name, adapter, weightValues[i]));
                }

                var notes = new List<string>();
                var merged = WeightedAdapterMerge.Merge(inputs, options, encoder.Weights, notes);
                foreach (var note in warnings.Concat(notes))
                    stderr.WriteLine($"note: {note}");
                var headSource = inputs.FirstOrDefault(a => a.Adapter.Directory == merged.SavedFrom);
                var record = DerivedAdapterRecord.Create(encoder.Manifest.Name, baseSha256, merged.Config.BaseModelNameOrPath, $"merge-adapters {options.Combination}", merged.SavedFrom, Provenance(inputs, options));

                AtomicFolder.Write(outputDir, parseResult.GetValue(overwrite), "--overwrite", tmp =>
                {
                    PeftAdapterWriter.WriteInto(tmp, merged.Config, merged.Tensors());
                    DerivedAdapterRecord.Save(tmp, record);
                    if (evalRows is not null)
                        Evaluate(encoder, inputs, tmp, evalRows, parseResult.GetValue(eval)!, parseResult.GetValue(maxLength), stdout, stderr);
                });
                stdout.WriteLine($"{outputDir}: LoRA r = {merged.Config.R}, {merged.Modules.Count} modules, {options.Combination} of {string.Join(", ", inputs.Select(a => $"{a.Name} ({a.Weight.ToString(CultureInfo.InvariantCulture)})"))}" +
                    (headSource is null ? "" : $", head from {headSource.Name}"));
                return 0;
            }
            catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or NotSupportedException or DatasetFormatException)
            {
                stderr.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    /// <summary>Each input whose classifier knows the data's labels, then the merged adapter (still in its temporary folder).</summary>
    private static void Evaluate(BaseEncoder encoder, IReadOnlyList<WeightedAdapter> inputs, string merged, IReadOnlyList<LabeledText> rows, string dataPath, int maxLength, TextWriter stdout, TextWriter stderr)
    {
        foreach (var input in inputs)
        {
            if (!AdapterEvaluation.Covers(input.Adapter.Directory, rows))
            {
                stderr.WriteLine($"note: {input.Name} is not evaluated: its training.json records no labels covering {dataPath}.");
                continue;
            }
            var m = AdapterEvaluation.Evaluate(encoder, input.Adapter.Directory, rows, maxLength);
            stdout.WriteLine($"before: {input.Name} on {dataPath}: accuracy {m.Accuracy:P2}, macro-F1 {m.MacroF1:P2} ({m.Count} examples)");
        }
        var after = AdapterEvaluation.Evaluate(encoder, merged, rows, maxLength);
        stdout.WriteLine($"after: merged on {dataPath}: accuracy {after.Accuracy:P2}, macro-F1 {after.MacroF1:P2} ({after.Count} examples)");
    }

    private static JsonObject Provenance(IReadOnlyList<WeightedAdapter> inputs, WeightedMergeOptions options) => new()
    {
        ["combination_type"] = options.Combination.Name,
        ["adapters"] = new JsonArray([.. inputs.Select(a => (JsonNode)new JsonObject
        {
            ["name"] = a.Name,
            ["weight"] = a.Weight,
            ["adapter_sha256"] = a.Adapter.WeightsSha256,
        })]),
        ["density"] = options.Density,
        ["majority_sign_method"] = options.Combination.UsesMajoritySign ? options.MajoritySign.ToString().ToLowerInvariant() : null,
        ["svd_rank"] = options.SvdRank,
        ["svd_clamp"] = options.SvdClamp,
        ["seed"] = options.Combination.IsRandom ? options.Seed : null,
    };

    internal static string[] SplitList(string value, string option)
    {
        var items = value.Split(',').Select(s => s.Trim()).ToArray();
        if (items.Length == 0 || items.Any(s => s.Length == 0))
            throw new ArgumentException($"{option} \"{value}\" has an empty item; give comma-separated folders.");
        return items;
    }

    private static double[] ParseWeights(string value) =>
        [.. SplitList(value, "--weights").Select(s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v
            : throw new ArgumentException($"--weights: \"{s}\" is not a finite number."))];
}
