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
/// What `eval` runs: a merged or base bundle as it is, or one adapter of a side or mixed bundle. A side bundle's graph
/// without an adapter holds default inputs, not a trained adapter, so evaluating it bare would score the wrong model.
/// </summary>
internal sealed class EvaluatedModel : IDisposable
{
    private readonly OnnxModel? _merged;
    private readonly SideModel? _side;

    private EvaluatedModel(OnnxModel? merged, SideModel? side, string? adapter)
    {
        _merged = merged;
        _side = side;
        Adapter = adapter;
        Manifest = merged?.Manifest ?? side!.Manifest;
    }

    public BundleManifest Manifest { get; }

    /// <summary>The side bundle's adapter being evaluated; null for a merged or base bundle.</summary>
    public string? Adapter { get; }

    public bool IsClassifier => Manifest.Task == BundleTask.SequenceClassification;

    public ITextScorer CreateScorer(ScorerOptions options) =>
        _merged is not null ? new OnnxTextScorer(_merged, options) : new SideTextScorer(_side!, Adapter, options);

    /// <summary>Opens <paramref name="directory"/>; --adapter is required for a side bundle with several adapters and refused for any other bundle.</summary>
    public static EvaluatedModel Load(string directory, string? adapter, SessionSettings settings, ILogger logger, bool verify)
    {
        if (!ScorerFactory.IsSideBundle(directory))
        {
            if (adapter is not null)
                throw new UsageException($"--adapter {adapter}: {directory} is not a side or mixed bundle (no {SideGraphManifest.FileName}); a merged bundle carries its adapter in its weights.");
            return new EvaluatedModel(OnnxModel.Load(directory, settings, logger, verify), null, null);
        }

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

    public void Dispose()
    {
        _merged?.Dispose();
        _side?.Dispose();
    }
}
