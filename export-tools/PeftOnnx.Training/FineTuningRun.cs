using PeftOnnx.Runtime.Evaluation;
using PeftOnnx.Runtime.Tokenization;
using PeftOnnx.Training.Data;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Methods;
using PeftOnnx.Training.Output;
using PeftOnnx.Training.TrainingLoop;
using TorchSharp;

namespace PeftOnnx.Training;

/// <summary>One training run end to end: base model, data, method, training loop, test evaluation, output folder.</summary>
public static class FineTuningRun
{
    public static TrainingReport Run(FineTuningRequest request, ITrainingProgress? progress, CancellationToken cancellation)
    {
        request.Options.Validate();
        var threads = request.Threads > 0 ? request.Threads : Environment.ProcessorCount;
        torch.set_num_threads(threads);
        var device = TorchDevice.Select(request.Device);

        var encoder = BaseEncoder.Load(request.BaseDirectory);
        var tokenizer = BertTokenizer.FromFile(encoder.VocabPath, encoder.Manifest.Tokenizer);
        var data = TaskData.Load(request.TrainPath, request.DevPath, request.TestPath, tokenizer, request.MaxLength, request.Options.Seed);
        progress?.Message($"data: {data.Train.Count} train, {data.Dev.Count} dev{(data.DevWasSplit ? " (stratified split of the training data)" : "")}{(data.Test is null ? "" : $", {data.Test.Count} test")}; {data.Labels.Count} labels");

        // Seed before the head and the adapter are initialised, so a run is reproducible from its seed.
        torch.random.manual_seed(request.Options.Seed);
        using var model = encoder.CreateClassifier(data.Labels.Count, request.Pooling);
        request.Method.Apply(model);
        model.to(device);
        var parameters = TrainableParameterReport.Of(model);
        progress?.Message($"{request.Method.Name}: {parameters}");

        var work = request.WorkDirectory ?? Path.GetFullPath(request.OutputDirectory).TrimEnd('/') + ".work";
        var trainer = new Trainer(model, request.Options, device, tokenizer.PadId, work, progress);
        var result = trainer.Train(data.Train, data.Dev, request.Method.Name, request.Resume, cancellation);

        ClassificationMetrics? test = null;
        if (data.Test is not null)
        {
            test = Evaluator.Evaluate(model, data.Test, request.Options.EvalBatchSize, tokenizer.PadId, device);
            progress?.Message($"test: accuracy {test.Accuracy:P2}, macro-F1 {test.MacroF1:P2} ({test.Count} examples, best-dev checkpoint from epoch {result.BestEpoch}, step {result.BestStep})");
        }
        var best = result.Epochs.Last(e => e.Best);
        var report = new TrainingReport
        {
            BaseModel = encoder.Manifest.Name,
            BaseModelSha256 = encoder.Manifest.Files.FirstOrDefault(f => f.Name == "model.onnx")?.Sha256,
            BaseModelNameOrPath = encoder.Manifest.HubId ?? encoder.Manifest.Name,
            Method = request.Method.Name,
            Labels = data.Labels.Names,
            Pooling = request.Pooling.ToString().ToLowerInvariant(),
            MaxLength = request.MaxLength,
            Options = request.Options,
            TrainableParameters = parameters.Trainable,
            TotalParameters = parameters.Total,
            TrainablePercent = parameters.Percent,
            TrainExamples = data.Train.Count,
            DevExamples = data.Dev.Count,
            DevSplitFromTrain = data.DevWasSplit,
            BestEpoch = result.BestEpoch,
            BestStep = result.BestStep,
            DevAccuracy = best.DevAccuracy,
            DevMacroF1 = best.DevMacroF1,
            TestAccuracy = test?.Accuracy,
            TestMacroF1 = test?.MacroF1,
            TestExamples = test?.Count,
            EpochsRun = result.EpochsRun,
            StoppedEarly = result.StoppedEarly,
            WallSeconds = result.WallSeconds,
            TrainTokensPerSecond = result.TrainTokensPerSecond,
            PeakMemoryBytes = result.PeakMemoryBytes,
            Device = device.type.ToString().ToLowerInvariant(),
            Threads = threads,
        };
        TrainedModelWriter.Write(request.OutputDirectory, model, request.Method, report, trainer.MetricsPath, trainer.CurvePath, request.Overwrite);
        // The default work folder only serves an unfinished run (--resume); the output now holds its metrics and curve.
        if (request.WorkDirectory is null)
            Directory.Delete(work, recursive: true);
        return report;
    }
}
