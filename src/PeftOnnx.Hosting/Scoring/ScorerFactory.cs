using Microsoft.Extensions.Logging;
using PeftOnnx.Hosting.Worker;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Scoring;
using PeftOnnx.Runtime.Sessions;

namespace PeftOnnx.Hosting.Scoring;

/// <summary>Loads the configured bundle on the configured device and wraps it in the ONNX scorer.</summary>
public static class ScorerFactory
{
    public static OnnxModel LoadModel(WorkerOptions worker, ILogger logger)
    {
        if (!Enum.TryParse<DeviceKind>(worker.Device, ignoreCase: true, out var device))
            throw new InvalidOperationException($"Worker:Device is '{worker.Device}'; use auto, cpu or cuda.");
        var settings = new SessionSettings
        {
            Device = device,
            CudaDeviceId = worker.DeviceId,
            GpuMemoryLimit = worker.GpuMemoryLimitMb > 0 ? worker.GpuMemoryLimitMb * 1024 * 1024 : null,
        };
        var model = OnnxModel.Load(worker.Model!, settings, logger);
        logger.LogInformation("Loaded {ModelId} on {Device} ({Threads} intra-op threads)", model.ModelId, model.Device, model.IntraOpThreads);
        return model;
    }

    public static OnnxTextScorer CreateScorer(OnnxModel model, WorkerOptions worker) => new(model, new ScorerOptions
    {
        BatchSize = worker.BatchSize,
        WindowOverlap = worker.WindowOverlap,
        Aggregation = worker.Aggregation,
        ZeroShotLabels = worker.ZeroShotLabels,
    });
}
