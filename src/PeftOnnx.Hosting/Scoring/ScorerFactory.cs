using Microsoft.Extensions.Logging;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Hosting.Worker;
using PeftOnnx.Runtime.Adapters;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Scoring;
using PeftOnnx.Runtime.Sessions;

namespace PeftOnnx.Hosting.Scoring;

/// <summary>
/// Loads the configured bundle on the configured device and wraps it in a scorer: a merged bundle (or base model) in
/// the ONNX scorer, a side-graph bundle (side.json, docs/SIDE_GRAPHS.md) in the adapter scorer.
/// </summary>
public static class ScorerFactory
{
    /// <summary>True for a side-graph bundle: side.json next to bundle.json, adapters chosen per text.</summary>
    public static bool IsSideBundle(string directory) => File.Exists(Path.Combine(directory, SideGraphManifest.FileName));

    public static OnnxModel LoadModel(WorkerOptions worker, ILogger logger)
    {
        if (worker.Adapter is not null)
            throw new InvalidOperationException($"Worker:Adapter is '{worker.Adapter}', but {worker.Model} is not a side-graph bundle (no {SideGraphManifest.FileName}); its adapter is merged in.");
        var model = OnnxModel.Load(worker.Model!, Settings(worker), logger, verify: !worker.SkipVerify);
        logger.LogInformation("Loaded {ModelId} on {Device} ({Threads} intra-op threads)", model.ModelId, model.Device, model.IntraOpThreads);
        return model;
    }

    /// <summary>Loads a side bundle; its adapter folder is watched, so adapters come and go while serving.</summary>
    public static SideModel LoadSideModel(WorkerOptions worker, ILogger logger)
    {
        var model = SideModel.Load(worker.Model!, Settings(worker), worker.AdaptersDir, watch: true, logger, verify: !worker.SkipVerify);
        logger.LogInformation("Loaded side-graph bundle {Name} ({Form}) with adapters from {Folder}: {Adapters}", model.Manifest.Name, model.Side.Form,
            model.Registry.Directory, model.Registry.Adapters.Count == 0 ? "none yet" : string.Join(", ", model.Registry.Adapters.Keys.Order(StringComparer.Ordinal)));
        return model;
    }

    public static OnnxTextScorer CreateScorer(OnnxModel model, WorkerOptions worker) => new(model, Options(worker));

    public static SideTextScorer CreateScorer(SideModel model, WorkerOptions worker)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (worker.ZeroShotLabels is { Length: > 0 })
            throw new InvalidOperationException($"Worker:ZeroShotLabels (--labels) does not apply to the side-graph bundle {model.Directory}: its adapters carry their own classifiers.");
        try
        {
            // Requests may name their adapter; texts that name none get Worker:Adapter, else the bundle's only adapter,
            // else none (a classification bundle then refuses them, never scoring with the bare graph's defaults).
            return new SideTextScorer(model, model.Registry.ChooseDefault(worker.Adapter), Options(worker));
        }
        catch (AdapterNotFoundException e)
        {
            throw new InvalidOperationException($"Worker:Adapter: {e.Message}", e);
        }
    }

    private static ScorerOptions Options(WorkerOptions worker) => new()
    {
        BatchSize = worker.BatchSize,
        WindowOverlap = worker.WindowOverlap,
        Aggregation = worker.Aggregation,
        ZeroShotLabels = worker.ZeroShotLabels,
    };

    private static SessionSettings Settings(WorkerOptions worker)
    {
        if (!Enum.TryParse<DeviceKind>(worker.Device, ignoreCase: true, out var device))
            throw new InvalidOperationException($"Worker:Device is '{worker.Device}'; use auto, cpu or cuda.");
        return new SessionSettings
        {
            Device = device,
            CudaDeviceId = worker.DeviceId,
            GpuMemoryLimit = worker.GpuMemoryLimitMb > 0 ? worker.GpuMemoryLimitMb * 1024 * 1024 : null,
            AllowSpinning = worker.SpinThreads,
        };
    }
}
