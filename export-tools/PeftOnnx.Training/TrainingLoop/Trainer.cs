using System.Diagnostics;
using PeftOnnx.Training.Data;
using PeftOnnx.Training.Encoder;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PeftOnnx.Training.TrainingLoop;

/// <summary>
/// The training loop: AdamW (no decay on biases and LayerNorm weights), linear warm-up then decay, gradient
/// clipping, length-bucketed dynamic padding, evaluation on dev after each epoch (or every --eval-steps), best
/// checkpoint by the dev metric, early stopping, seeded batch order and dropout, resumable checkpoints (also written
/// on cancellation, e.g. Ctrl-C). A run that stops at --max-steps or the time limit evaluates first when its last
/// steps were not evaluated, so it always ends with a best checkpoint. Every step runs in its own dispose scope, so
/// memory stays flat.
/// </summary>
public sealed class Trainer
{
    private readonly BertForSequenceClassification _model;
    private readonly TrainingOptions _options;
    private readonly Device _device;
    private readonly int _padId;
    private readonly string _workDirectory;
    private readonly ITrainingProgress? _progress;
    private readonly List<IParameterConstraint> _constraints;
    private readonly List<IRegularizedModule> _regularized;

    /// <param name="workDirectory">Holds checkpoints (last/, best/), metrics.jsonl and training_curve.png.</param>
    public Trainer(BertForSequenceClassification model, TrainingOptions options, Device device, int padId, string workDirectory, ITrainingProgress? progress = null)
    {
        options.Validate();
        _model = model;
        _model.Bert.Encoder.GradientCheckpointing = options.GradientCheckpointing;
        _options = options;
        _device = device;
        _padId = padId;
        _workDirectory = workDirectory;
        _progress = progress;
        Trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)).ToList();
        _constraints = [.. model.modules().OfType<IParameterConstraint>()];
        _regularized = [.. model.modules().OfType<IRegularizedModule>()];
        if (Trainable.Count == 0)
            throw new InvalidOperationException("the model has no trainable parameters; apply a method first.");
    }

    public IReadOnlyList<(string Name, Parameter Parameter)> Trainable { get; }

    public string LastCheckpoint => Path.Combine(_workDirectory, "last");

    public string BestCheckpoint => Path.Combine(_workDirectory, "best");

    public string MetricsPath => Path.Combine(_workDirectory, "metrics.jsonl");

    public string CurvePath => Path.Combine(_workDirectory, "training_curve.png");

    /// <summary>Trains; returns with the best-dev parameters loaded into the model.</summary>
    /// <param name="resume">Continue from <see cref="LastCheckpoint"/> instead of starting afresh.</param>
    public TrainingResult Train(IReadOnlyList<TokenizedExample> train, IReadOnlyList<TokenizedExample> dev, string methodName, bool resume, CancellationToken cancellation)
    {
        Directory.CreateDirectory(_workDirectory);
        var stepsPerEpoch = (train.Count + _options.BatchSize - 1) / _options.BatchSize;
        var schedule = LinearWarmupSchedule.For(_options.MaxSteps ?? stepsPerEpoch * _options.Epochs, _options.WarmupRatio);
        using var optimizer = CreateOptimizer();

        random.manual_seed(_options.Seed);
        var (state, epochs) = StartOrResume(methodName, schedule, optimizer, resume);
        using var metrics = new MetricsLog(MetricsPath, append: resume);
        var clock = new RunClock(state.ElapsedSeconds);
        var stoppedEarly = false;
        _progress?.TrainingStarted(schedule.TotalSteps, state.GlobalStep);
        _model.train();

        var run = new Run(dev, epochs, optimizer, schedule, metrics, clock, methodName);
        while (state.GlobalStep < schedule.TotalSteps)
        {
            // The batch order depends only on (seed, epoch), so a resumed run sees the same batches.
            var batches = LengthBuckets.ForTraining(train, _options.BatchSize, new Random(HashCode.Combine(_options.Seed, state.Epoch)));
            (state, var stop) = TrainEpoch(train, batches, state, run, cancellation);
            if (stop == Stop.TimeUp)
                _progress?.Message($"time limit {_options.TimeLimit} reached at epoch {state.Epoch}, step {state.GlobalStep}.");
            if (stop is Stop.TimeUp or Stop.MaxSteps && (epochs.Count == 0 || epochs[^1].Step != state.GlobalStep))
                (state, _) = Evaluate(state, run);
            if (stop is Stop.None)
            {
                if (_options.EvalSteps is null)
                    (state, stop) = Evaluate(state, run);
                state = state with { Epoch = state.Epoch + 1, BatchInEpoch = 0 };
            }
            state = state with { ElapsedSeconds = clock.TotalSeconds };
            TrainerCheckpoint.Save(LastCheckpoint, Trainable, optimizer, state);
            if (stop is not Stop.None)
            {
                stoppedEarly = stop is not Stop.MaxSteps || state.GlobalStep < schedule.TotalSteps;
                break;
            }
        }
        if (stoppedEarly || _options.MaxSteps is not null)
            _progress?.Message($"stopped at step {state.GlobalStep}/{schedule.TotalSteps}; keeping the best-dev checkpoint (epoch {state.BestEpoch}, step {state.BestStep}).");
        return Finish(state, epochs, stoppedEarly);
    }

    /// <summary>A fresh state, or the last checkpoint's (same method, seed and step count) with the epochs it had logged.</summary>
    private (TrainerState State, List<EpochSummary> Epochs) StartOrResume(string methodName, LinearWarmupSchedule schedule, AdamW optimizer, bool resume)
    {
        var epochs = new List<EpochSummary>();
        if (!resume)
        {
            if (File.Exists(MetricsPath))
                File.Delete(MetricsPath);
            return (new TrainerState { TotalSteps = schedule.TotalSteps, Seed = _options.Seed, Method = methodName }, epochs);
        }
        var state = TrainerCheckpoint.Load(LastCheckpoint, Trainable, optimizer);
        if (state.Method != methodName || state.Seed != _options.Seed || state.TotalSteps != schedule.TotalSteps)
            throw new InvalidOperationException($"the checkpoint in {LastCheckpoint} is for method {state.Method}, seed {state.Seed}, {state.TotalSteps} steps; this run is {methodName}, seed {_options.Seed}, {schedule.TotalSteps} steps. Resume with the same settings.");
        if (File.Exists(MetricsPath))
            epochs.AddRange(MetricsLog.Read(MetricsPath).Epochs.Where(e => e.Step <= state.GlobalStep));
        _progress?.Message($"resuming at epoch {state.Epoch}, batch {state.BatchInEpoch}, step {state.GlobalStep}/{schedule.TotalSteps}");
        return (state, epochs);
    }

    /// <summary>Why <see cref="TrainEpoch"/> returned before its last batch (None: the epoch is complete).</summary>
    private enum Stop { None, TimeUp, MaxSteps, EarlyStop }

    /// <summary>What the epochs of one run share.</summary>
    private sealed record Run(IReadOnlyList<TokenizedExample> Dev, List<EpochSummary> Epochs, AdamW Optimizer, LinearWarmupSchedule Schedule, MetricsLog Metrics, RunClock Clock, string MethodName);

    /// <summary>
    /// The remaining batches of the epoch in progress, evaluating every --eval-steps and saving every --save-steps;
    /// returns early at the time limit, at the last step and on early stopping; on cancellation saves the last
    /// checkpoint and throws.
    /// </summary>
    private (TrainerState State, Stop Stop) TrainEpoch(IReadOnlyList<TokenizedExample> train, List<int[]> batches, TrainerState state, Run run, CancellationToken cancellation)
    {
        var runningLoss = 0.0;
        var runningCount = 0;
        for (var b = state.BatchInEpoch; b < batches.Count; b++)
        {
            if (cancellation.IsCancellationRequested)
            {
                state = state with { ElapsedSeconds = run.Clock.TotalSeconds };
                TrainerCheckpoint.Save(LastCheckpoint, Trainable, run.Optimizer, state);
                _progress?.Message($"interrupted at epoch {state.Epoch}, step {state.GlobalStep}: checkpoint saved to {LastCheckpoint}; rerun with --resume to continue.");
                throw new OperationCanceledException($"training interrupted; checkpoint saved to {LastCheckpoint}.", cancellation);
            }
            if (run.Clock.ThisRun > _options.TimeLimit)
                return (state, Stop.TimeUp);
            var learningRate = _options.LearningRate * run.Schedule.Factor(state.GlobalStep);
            foreach (var group in run.Optimizer.ParamGroups)
                group.LearningRate = learningRate;
            var (loss, tokens) = TrainStep(run.Optimizer, train, batches[b]);
            state = state with
            {
                BatchInEpoch = b + 1,
                GlobalStep = state.GlobalStep + 1,
                EpochLossSum = state.EpochLossSum + loss,
                EpochTokens = state.EpochTokens + tokens,
                StepsSinceEval = state.StepsSinceEval + 1,
            };
            runningLoss += loss;
            runningCount++;
            _progress?.StepCompleted(state.Epoch, state.GlobalStep, loss, learningRate);
            // Short runs log more often, so the curve has a loss line however few steps there are.
            if (runningCount == Math.Min(_options.LogEverySteps, Math.Max(1, run.Schedule.TotalSteps / 20)))
            {
                run.Metrics.Write(new StepLog { Epoch = state.Epoch, Step = state.GlobalStep, Loss = runningLoss / runningCount, LearningRate = learningRate });
                runningLoss = 0;
                runningCount = 0;
            }
            if (state.GlobalStep >= run.Schedule.TotalSteps)
                return (state, Stop.MaxSteps);
            var stop = Stop.None;
            if (_options.EvalSteps is { } every && state.GlobalStep % every == 0)
            {
                (state, stop) = Evaluate(state, run);
                TrainerCheckpoint.Save(LastCheckpoint, Trainable, run.Optimizer, state with { ElapsedSeconds = run.Clock.TotalSeconds });
            }
            else if (_options.SaveSteps is { } save && state.GlobalStep % save == 0)
            {
                TrainerCheckpoint.Save(LastCheckpoint, Trainable, run.Optimizer, state with { ElapsedSeconds = run.Clock.TotalSeconds });
            }
            if (stop is not Stop.None)
                return (state, stop);
        }
        return (state, Stop.None);
    }

    /// <summary>
    /// Evaluates on dev, logs the evaluation, saves the best checkpoint and the curve, and starts the next interval;
    /// EarlyStop when --patience evaluations in a row brought no better dev metric.
    /// </summary>
    private (TrainerState State, Stop Stop) Evaluate(TrainerState state, Run run)
    {
        var devMetrics = Evaluator.DevMetrics(_model, run.Dev, _options.EvalBatchSize, _padId, _device);
        var metric = _options.SelectionMetric == "macro_f1" ? devMetrics.MacroF1 : devMetrics.Accuracy;
        var improved = metric > state.BestMetric;
        var elapsed = run.Clock.TotalSeconds;
        var summary = new EpochSummary
        {
            Epoch = state.Epoch,
            Step = state.GlobalStep,
            TrainLoss = state.EpochLossSum / Math.Max(1, state.StepsSinceEval),
            DevAccuracy = devMetrics.Accuracy,
            DevMacroF1 = devMetrics.MacroF1,
            LearningRate = _options.LearningRate * run.Schedule.Factor(state.GlobalStep),
            ElapsedSeconds = elapsed,
            TrainTokensPerSecond = state.EpochTokens / Math.Max(1e-9, EpochSeconds(run.Epochs, elapsed)),
            PeakMemoryBytes = PeakMemory.Bytes(),
            Best = improved,
        };
        run.Epochs.Add(summary);
        run.Metrics.Write(summary);
        _progress?.EpochEvaluated(summary);
        if (improved)
            TrainerCheckpoint.Save(BestCheckpoint, Trainable, null, state);
        state = state with
        {
            EpochLossSum = 0,
            EpochTokens = 0,
            StepsSinceEval = 0,
            BestMetric = improved ? metric : state.BestMetric,
            BestEpoch = improved ? summary.Epoch : state.BestEpoch,
            BestStep = improved ? summary.Step : state.BestStep,
            EpochsWithoutImprovement = improved ? 0 : state.EpochsWithoutImprovement + 1,
            ElapsedSeconds = elapsed,
        };
        TrainingCurve.Save(MetricsPath, CurvePath, $"{run.MethodName}: loss and dev metrics");
        if (_options.EarlyStoppingPatience > 0 && state.EpochsWithoutImprovement >= _options.EarlyStoppingPatience && state.GlobalStep < run.Schedule.TotalSteps)
        {
            _progress?.Message($"early stop: no better dev {_options.SelectionMetric} for {state.EpochsWithoutImprovement} evaluation(s); best was epoch {state.BestEpoch}, step {state.BestStep}.");
            return (state, Stop.EarlyStop);
        }
        return (state, Stop.None);
    }

    /// <summary>Loads the best-dev parameters into the model and sums the run up.</summary>
    private TrainingResult Finish(TrainerState state, List<EpochSummary> epochs, bool stoppedEarly)
    {
        if (state.BestEpoch == 0)
            throw new InvalidOperationException($"training stopped before the first dev evaluation, so there is no best checkpoint yet; the last checkpoint is in {LastCheckpoint} (continue with --resume).");
        TrainerCheckpoint.LoadParameters(Path.Combine(BestCheckpoint, "trainable.safetensors"), Trainable, restoreRng: false);
        _model.eval();
        var totalTokens = epochs.Count == 0 ? 0 : epochs.Sum(e => e.TrainTokensPerSecond * EpochDuration(epochs, e));
        return new TrainingResult
        {
            BestEpoch = state.BestEpoch,
            BestStep = state.BestStep,
            BestDevMetric = state.BestMetric,
            EpochsRun = epochs.Count,
            Steps = state.GlobalStep,
            WallSeconds = state.ElapsedSeconds,
            TrainTokensPerSecond = totalTokens / Math.Max(1e-9, epochs.Sum(e => EpochDuration(epochs, e))),
            PeakMemoryBytes = PeakMemory.Bytes(),
            Epochs = epochs,
            StoppedEarly = stoppedEarly,
        };
    }

    private (double Loss, long Tokens) TrainStep(AdamW optimizer, IReadOnlyList<TokenizedExample> train, int[] indices)
    {
        using var scope = NewDisposeScope();
        var (batch, labels) = BatchCollator.Collate(train, indices, _padId, _device, _model.NumLabels);
        var loss = _model.Loss(_model.forward(batch), labels);
        optimizer.zero_grad();
        // Penalties join the gradient before clipping, as adapter-transformers' trainer backpropagates its fusion
        // regularization; the reported loss stays the task's.
        var objective = _regularized.Select(m => m.Penalty()).Aggregate(loss, (sum, penalty) => penalty is null ? sum : sum + penalty);
        objective.backward();
        nn.utils.clip_grad_norm_(Trainable.Select(p => p.Parameter), _options.MaxGradNorm);
        optimizer.step();
        foreach (var constraint in _constraints)
            constraint.Project();
        return (loss.item<float>(), batch.Size * batch.Length);
    }

    private AdamW CreateOptimizer()
    {
        // transformers' Trainer: no weight decay on biases and LayerNorm weights.
        static bool NoDecay(string name) => name.EndsWith(".bias", StringComparison.Ordinal) || name.Contains("LayerNorm", StringComparison.Ordinal);
        var decay = Trainable.Where(p => !NoDecay(p.Name)).Select(p => p.Parameter).ToList();
        var noDecay = Trainable.Where(p => NoDecay(p.Name)).Select(p => p.Parameter).ToList();
        var groups = new List<AdamW.ParamGroup>();
        if (decay.Count > 0)
            groups.Add(new AdamW.ParamGroup(decay, _options.LearningRate, 0.9, 0.999, 1e-8, _options.WeightDecay, false, false));
        if (noDecay.Count > 0)
            groups.Add(new AdamW.ParamGroup(noDecay, _options.LearningRate, 0.9, 0.999, 1e-8, 0.0, false, false));
        return optim.AdamW(groups, _options.LearningRate, 0.9, 0.999, 1e-8, _options.WeightDecay, false, false);
    }

    private static double EpochSeconds(List<EpochSummary> previous, double elapsed) =>
        elapsed - (previous.Count == 0 ? 0 : previous[^1].ElapsedSeconds);

    private static double EpochDuration(List<EpochSummary> epochs, EpochSummary e)
    {
        var i = epochs.IndexOf(e);
        return e.ElapsedSeconds - (i == 0 ? 0 : epochs[i - 1].ElapsedSeconds);
    }

    /// <summary>Time of this run (the time limit applies to it) and of the whole training, resumed runs included.</summary>
    private sealed class RunClock(double secondsBefore)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        public TimeSpan ThisRun => _clock.Elapsed;

        public double TotalSeconds => secondsBefore + _clock.Elapsed.TotalSeconds;
    }
}
