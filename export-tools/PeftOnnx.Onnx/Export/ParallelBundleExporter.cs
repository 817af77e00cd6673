using System.Security.Cryptography;
using System.Text;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.IO;
using PeftOnnx.Core.Json;
using PeftOnnx.Onnx.Graph;

namespace PeftOnnx.Onnx.Export;

/// <summary>
/// Base model folder + N task adapters -> one parallel bundle: each task is exported as its own merged bundle (the
/// same code as `export --mode merged`, into a scratch folder next to the output), then the N graphs are combined by
/// <see cref="ParallelGraphUnion"/> so the nodes they share run once. bundle.json lists the tasks with their labels
/// and outputs ("tasks"), the model's metadata what a merged bundle's says (provenance, the position table's size).
/// With <see cref="BundleExportOptions.Edge"/> the union, not each task, is saved as ONNX Runtime optimizes it, in its
/// format (model.ort), as a merged edge bundle is. Nothing is written unless every task exports and the union succeeds.
/// </summary>
public sealed class ParallelBundleExporter(IProgress<string>? progress = null)
{
    public const string Mode = "parallel";

    public ParallelExportResult Export(ParallelBundleOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Tasks.Count < 2)
            throw new ArgumentException($"--mode parallel needs at least two --adapter NAME=FOLDER tasks, got {options.Tasks.Count}; export a single adapter with --mode merged.", nameof(options));
        foreach (var task in options.Tasks)
        {
            if (!BundleTaskHead.IsValidName(task.Name))
                throw new ArgumentException($"task name \"{task.Name}\" (adapter {task.AdapterDirectory}) is not usable; task names are 1-64 characters of a-z, 0-9, '-' and '_'.", nameof(options));
        }
        var duplicate = options.Tasks.GroupBy(t => t.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"task name \"{duplicate.Key}\" is given {duplicate.Count()} times ({string.Join(", ", duplicate.Select(t => t.AdapterDirectory))}); task names must be distinct.", nameof(options));
        var output = Path.GetFullPath(options.Template.OutputDirectory);
        if (Directory.Exists(output) && !options.Template.Force)
            throw new IOException($"{output} already exists; pass --overwrite to replace it, or choose another --output.");

        var scratch = Path.Combine(Path.GetDirectoryName(output)!, $".{Path.GetFileName(output)}.tasks-{Guid.NewGuid().ToString("N")[..8]}");
        try
        {
            var exported = new List<(ParallelTask Task, BundleExportResult Result)>();
            foreach (var task in options.Tasks)
            {
                progress?.Report($"task {task.Name}: exporting {task.AdapterDirectory}");
                var result = new BundleExporter(progress).Export(options.Template with
                {
                    AdapterDirectory = task.AdapterDirectory,
                    OutputDirectory = Path.Combine(scratch, task.Name),
                    Labels = task.Labels,
                    Name = task.Name,
                    Force = false,
                    OptimizeForEdge = null, // the union is optimized once, below
                });
                if (result.Manifest.Task != BundleTask.SequenceClassification)
                    throw new InvalidDataException($"task {task.Name}: {task.AdapterDirectory} has no classifier (modules_to_save \"classifier\"); every task of a parallel bundle needs its own head.");
                exported.Add((task, result));
            }

            progress?.Report("combining the task graphs");
            var union = ParallelGraphUnion.Build([.. exported.Select(e => (e.Task.Name, OnnxModelFile.Load(Path.Combine(e.Result.Directory, e.Result.Manifest.Model))))]);
            progress?.Report(union.ToString());
            var first = exported[0].Result.Manifest;
            var optimize = options.Template.Edge && first.Precision != "fp16" ? options.Template.OptimizeForEdge : null;
            var tasks = exported.Select(e => new BundleTaskHead
            {
                Name = e.Task.Name,
                Labels = e.Result.Manifest.Labels!,
                ProblemType = e.Result.Manifest.ProblemType,
                Thresholds = e.Result.Manifest.Thresholds,
                Outputs = e.Result.Manifest.Outputs.ToDictionary(o => o.Key, o => $"{e.Task.Name}{ParallelGraphUnion.OutputSeparator}{o.Value}"),
                AdapterSha256 = e.Result.Manifest.Provenance.AdapterSha256,
                PeftType = e.Result.Manifest.Provenance.PeftType,
            }).ToList();
            var bundle = new BundleManifest
            {
                Name = options.Template.Name ?? Path.GetFileName(output),
                Task = BundleTask.SequenceClassification,
                Tokenizer = first.Tokenizer,
                Pooling = first.Pooling,
                Normalize = false,
                Precision = first.Precision,
                Mode = Mode,
                Model = BundleExporter.ModelFileName(optimize),
                GraphOptimization = optimize is null ? null : BundleManifest.ExtendedOptimization,
                Tasks = tasks,
                Provenance = new BundleProvenance
                {
                    BaseModel = first.Provenance.BaseModel,
                    BaseSha256 = first.Provenance.BaseSha256,
                    AdapterSha256 = CombinedSha256(tasks),
                    PeftType = string.Join('+', tasks.Select(t => t.PeftType).Distinct()),
                    Tool = BundleExporter.ToolName,
                    CreatedAt = DateTimeOffset.UtcNow,
                },
            };
            foreach (var task in tasks)
                task.Validate(BundleManifest.FileName);
            BundleExporter.WriteMetadata(union.Model, bundle, BaseModelFolder.Read(options.Template.BaseDirectory).Manifest.Architecture.MaxPosition);

            progress?.Report($"writing {output}");
            AtomicFolder.Write(output, options.Template.Force, "--overwrite", tmp =>
            {
                BundleExporter.SaveModel(union.Model, tmp, bundle.Model, optimize, progress);
                File.Copy(Path.Combine(exported[0].Result.Directory, first.Tokenizer.Vocab), Path.Combine(tmp, bundle.Tokenizer.Vocab));
                PeftJson.Save(Path.Combine(tmp, BundleManifest.FileName), bundle);
            });
            return new ParallelExportResult(output, PeftJson.Load<BundleManifest>(Path.Combine(output, BundleManifest.FileName)), union,
                [.. exported.SelectMany(e => e.Result.Warnings.Select(w => $"task {e.Task.Name}: {w}"))]);
        }
        finally
        {
            if (Directory.Exists(scratch))
                Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>One identity for the set of tasks (ledgers key results by it): sha256 over each task's name and adapter sha256, in order.</summary>
    private static string CombinedSha256(IEnumerable<BundleTaskHead> tasks) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', tasks.Select(t => $"{t.Name}={t.AdapterSha256}")))));
}

/// <summary>
/// What <see cref="ParallelBundleExporter"/> builds: <see cref="Template"/> holds the base, output and export settings
/// shared by all tasks (its adapter and labels are replaced per task).
/// </summary>
public sealed record ParallelBundleOptions(BundleExportOptions Template, IReadOnlyList<ParallelTask> Tasks);

/// <summary>One task: its name in bundle.json and results, the adapter folder, and its labels (null: the adapter's training.json or label_i).</summary>
public sealed record ParallelTask(string Name, string AdapterDirectory, IReadOnlyList<string>? Labels = null);

/// <summary>The written bundle, the union's report, and the warnings of the tasks' exports.</summary>
public sealed record ParallelExportResult(string Directory, BundleManifest Manifest, ParallelUnion Union, IReadOnlyList<string> Warnings);
