using Microsoft.Extensions.Logging;
using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Hosting.Scoring;
using PeftOnnx.Runtime.Adapters;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Scoring;
using PeftOnnx.Runtime.Sessions;

namespace PeftOnnx.Cli.Commands.Eval;

/// <summary>
/// What `eval` runs: a merged or base bundle as it is, one adapter of a side or mixed bundle, or one task of a parallel
/// bundle. A side bundle's graph without an adapter holds default inputs, not a trained adapter, so evaluating it bare
/// would score the wrong model; a parallel bundle scores every task, and labelled data belongs to one of them.
/// </summary>
internal sealed class EvaluatedModel : IDisposable
{
    private readonly OnnxModel? _merged;
    private readonly SideModel? _side;

    private EvaluatedModel(OnnxModel? merged, SideModel? side, string? adapter, BundleTaskHead? task = null)
    {
        _merged = merged;
        _side = side;
        Adapter = adapter;
        Task = task;
        Manifest = merged?.Manifest ?? side!.Manifest;
    }

    public BundleManifest Manifest { get; }

    /// <summary>The side bundle's adapter being evaluated; null for a merged or base bundle.</summary>
    public string? Adapter { get; }

    /// <summary>The parallel bundle's task being evaluated; null for any other bundle.</summary>
    public BundleTaskHead? Task { get; }

    public bool IsClassifier => Manifest.Task == BundleTask.SequenceClassification;

    /// <summary>The evaluated classifier's labels: the task's in a parallel bundle, else the bundle's (null for an embedding model).</summary>
    public IReadOnlyList<string>? Labels => Task?.Labels ?? Manifest.Labels;

    public bool IsMultiLabel => Task?.IsMultiLabel ?? Manifest.IsMultiLabel;

    public IReadOnlyList<float>? Thresholds => Task is null ? Manifest.Thresholds : Task.Thresholds;

    /// <summary>The bundle's name, with the evaluated task.</summary>
    public string Name => Task is null ? Manifest.Name : $"{Manifest.Name} (task {Task.Name})";

    /// <summary>The model id a report names: the scorer's, with "/&lt;task&gt;" for a task of a parallel bundle.</summary>
    public string ModelId(ITextScorer scorer) => Task is null ? scorer.ModelId : $"{scorer.ModelId}/{Task.Name}";

    /// <summary>The evaluated classifier's part of a document's score: the task's score in a parallel bundle, else the score itself.</summary>
    public TextScore Evaluated(TextScore score) => Task is null ? score : score.Tasks![Task.Name];

    public ITextScorer CreateScorer(ScorerOptions options) =>
        _merged is not null ? new OnnxTextScorer(_merged, options) : new SideTextScorer(_side!, Adapter, options);

    /// <summary>
    /// Opens <paramref name="directory"/>; --adapter is required for a side bundle with several adapters and refused for
    /// any other bundle, --task likewise for a parallel bundle's tasks.
    /// </summary>
    public static EvaluatedModel Load(string directory, string? adapter, string? task, SessionSettings settings, ILogger logger, bool verify)
    {
        if (!ScorerFactory.IsSideBundle(directory))
        {
            if (adapter is not null)
                throw new UsageException($"--adapter {adapter}: {directory} is not a side or mixed bundle (no {SideGraphManifest.FileName}); a merged bundle carries its adapter in its weights.");
            var onnx = OnnxModel.Load(directory, settings, logger, verify);
            try
            {
                var chosen = ChooseTask(onnx, directory, task);
                if (chosen is not null)
                    logger.LogInformation("Evaluating task {Task} of the parallel bundle {Bundle}", chosen.Name, directory);
                return new EvaluatedModel(onnx, null, null, chosen);
            }
            catch
            {
                onnx.Dispose();
                throw;
            }
        }
        if (task is not null)
            throw new UsageException($"--task {task}: {directory} is a side bundle, not a parallel one; pick its adapter with --adapter.");

        var side = SideModel.Load(directory, settings, adapterDirectory: null, watch: false, logger, verify);
        try
        {
            var chosen = SideAdapterChoice.Require(side, adapter);
            logger.LogInformation("Evaluating adapter {Adapter} of the side bundle {Bundle}", chosen, directory);
            return new EvaluatedModel(null, side, chosen);
        }
        catch
        {
            side.Dispose();
            throw;
        }
    }

    /// <summary>--task when the parallel bundle has it, else its only task; several without --task or an unknown name are usage errors listing the tasks.</summary>
    private static BundleTaskHead? ChooseTask(OnnxModel model, string directory, string? requested)
    {
        if (model.Tasks is not { } tasks)
        {
            return requested is null ? null
                : throw new UsageException($"--task {requested}: {directory} is not a parallel bundle (its bundle.json has no \"tasks\"); leave --task out.");
        }
        var names = string.Join(", ", tasks.Select(t => t.Name));
        if (requested is not null)
            return tasks.FirstOrDefault(t => t.Name == requested) ?? throw new UsageException($"--task {requested}: not a task of {directory} (tasks: {names}).");
        return tasks.Count == 1
            ? tasks[0]
            : throw new UsageException($"{directory} is a parallel bundle with {tasks.Count} tasks ({names}) and labelled data belongs to one; pick it with --task.");
    }

    public void Dispose()
    {
        _merged?.Dispose();
        _side?.Dispose();
    }
}
