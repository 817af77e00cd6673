using PeftOnnx.Core.Models;
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
        var baseSha256 = encoder.Manifest.Files.FirstOrDefault(f => f.Name == "model.onnx")?.Sha256;
        request.Method.RequireBase(new BaseModelIdentity(encoder.Manifest.Name, encoder.Manifest.HubId, baseSha256));
        var tokenizer = BertTokenizer.FromFile(encoder.VocabPath, encoder.Manifest.Tokenizer);
        var data = TaskData.Load(request.TrainPath, request.DevPath, request.TestPath, tokenizer, request.MaxLength, request.Options.Seed, multiLabel: request.MultiLabel);
        progress?.Message($"data: {data.Train.Count} train, {data.Dev.Count} dev{(data.DevWasSplit ? " (stratified split of the training data)" : "")}{(data.Test is null ? "" : $", {data.Test.Count} test")}; {data.Labels.Count} labels");

        // Seed before the head and the adapter are initialised, so a run is reproducible from its seed.
        torch.random.manual_seed(request.Options.Seed);
        using var model = encoder.CreateClassifier(data.Labels.Count, request.Pooling, data.MultiLabel);
        request.Method.Apply(model);
        model.to(device);
        var parameters = TrainableParameterReport.Of(model);
        progress?.Message($"{request.Method.Name}: {parameters}");

        var work = request.WorkDirectory ?? Path.GetFullPath(request.OutputDirectory).TrimEnd('/') + ".work";
        var trainer = new Trainer(model, request.Options, device, tokenizer.PadId, work, progress);
        var result = trainer.Train(data.Train, data.Dev, request.Method.Name, request.Resume, cancellation);

        var best = result.Epochs.Last(e => e.Best);
        var report = new TrainingReport
        {
            BaseModel = encoder.Manifest.Name,
            BaseModelSha256 = baseSha256,
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
            EpochsRun = result.EpochsRun,
            StoppedEarly = result.StoppedEarly,
            WallSeconds = result.WallSeconds,
            TrainTokensPerSecond = result.TrainTokensPerSecond,
            PeakMemoryBytes = result.PeakMemoryBytes,
            Device = device.type.ToString().ToLowerInvariant(),
            Threads = threads,
        };
        report = data.MultiLabel
            ? WithMultiLabelResults(report, model, data, request, tokenizer.PadId, device, progress)
            : WithSingleLabelResults(report, model, data, request, tokenizer.PadId, device, best, progress);
        TrainedModelWriter.Write(request.OutputDirectory, model, request.Method, report, trainer.MetricsPath, trainer.CurvePath, request.Overwrite);
        // The default work folder only serves an unfinished run (--resume); the output now holds its metrics and curve.
        if (request.WorkDirectory is null)
            Directory.Delete(work, recursive: true);
        return report;
    }

    private static TrainingReport WithSingleLabelResults(TrainingReport report, BertForSequenceClassification model, TaskData data, FineTuningRequest request, int padId, torch.Device device, EpochSummary best, ITrainingProgress? progress)
    {
        ClassificationMetrics? test = null;
        if (data.Test is not null)
        {
            test = Evaluator.Evaluate(model, data.Test, request.Options.EvalBatchSize, padId, device);
            progress?.Message($"test: accuracy {test.Accuracy:P2}, macro-F1 {test.MacroF1:P2} ({test.Count} examples, best-dev checkpoint from epoch {report.BestEpoch}, step {report.BestStep})");
        }
        return report with
        {
            DevAccuracy = best.DevAccuracy,
            DevMacroF1 = best.DevMacroF1,
            TestAccuracy = test?.Accuracy,
            TestMacroF1 = test?.MacroF1,
            TestExamples = test?.Count,
        };
    }

    /// <summary>Tunes the per-label thresholds on dev with the best checkpoint, then scores dev and test with them.</summary>
    private static TrainingReport WithMultiLabelResults(TrainingReport report, BertForSequenceClassification model, TaskData data, FineTuningRequest request, int padId, torch.Device device, ITrainingProgress? progress)
    {
        var batch = request.Options.EvalBatchSize;
        var thresholds = ThresholdTuning.Tune(Evaluator.Probabilities(model, data.Dev, batch, padId, device), Evaluator.Gold(data.Dev), data.Labels.Count);
        progress?.Message($"thresholds tuned on dev: {string.Join(", ", data.Labels.Names.Select((n, i) => FormattableString.Invariant($"{n} {thresholds[i]:0.###}")))}");
        var dev = Evaluator.EvaluateMultiLabel(model, data.Dev, thresholds, batch, padId, device);
        progress?.Message($"dev (tuned thresholds): micro-F1 {dev.MicroF1:P2}, macro-F1 {dev.MacroF1:P2}, subset accuracy {dev.SubsetAccuracy:P2}");
        MultiLabelMetrics? test = null;
        if (data.Test is not null)
        {
            test = Evaluator.EvaluateMultiLabel(model, data.Test, thresholds, batch, padId, device);
            progress?.Message($"test: micro-F1 {test.MicroF1:P2}, macro-F1 {test.MacroF1:P2}, subset accuracy {test.SubsetAccuracy:P2} ({test.Count} examples, best-dev checkpoint from epoch {report.BestEpoch}, step {report.BestStep})");
            foreach (var (label, name) in test.PerLabel.Zip(data.Labels.Names))
                progress?.Message(FormattableString.Invariant($"  {name,-16} precision {label.Precision:P1}  recall {label.Recall:P1}  F1 {label.F1:P1}  (support {label.Support})"));
        }
        return report with
        {
            ProblemType = TrainingReport.MultiLabelProblem,
            Thresholds = thresholds,
            DevAccuracy = dev.SubsetAccuracy,
            DevMacroF1 = dev.MacroF1,
            DevMicroF1 = dev.MicroF1,
            TestAccuracy = test?.SubsetAccuracy,
            TestMacroF1 = test?.MacroF1,
            TestMicroF1 = test?.MicroF1,
            TestExamples = test?.Count,
        };
    }
}
