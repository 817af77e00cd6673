using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Lora;
using PeftOnnx.Training.Data;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Methods;
using PeftOnnx.Training.Methods.Baselines;
using PeftOnnx.Training.Methods.Lora;
using PeftOnnx.Training.TrainingLoop;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Tests;

/// <summary>The training loop on a tiny random encoder and a synthetic task: it learns, it is reproducible, it resumes exactly, and its memory stays flat.</summary>
public sealed class TrainerTests(ITestOutputHelper output) : IDisposable
{
    private static readonly BertConfig Tiny = new()
    {
        VocabSize = 64, HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 32, MaxPositionEmbeddings = 64,
    };

    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Label 1 when token 7 occurs in the document, else 0; lengths 4..24 so batches need padding.</summary>
    private static List<TokenizedExample> Task(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            var length = random.Next(4, 25);
            var ids = Enumerable.Range(0, length).Select(_ => random.Next(10, 64)).ToArray();
            var label = i % 2;
            if (label == 1)
            {
                for (var k = 0; k < 3; k++)
                    ids[random.Next(1, length - 1)] = 7;
            }
            ids[0] = 1;
            ids[^1] = 2;
            return new TokenizedExample(ids, label);
        }).ToList();
    }

    /// <summary>LoRA for the loop mechanics; full fine-tuning where the random tiny encoder has to learn the task.</summary>
    private static BertForSequenceClassification Model(int seed, bool full = false)
    {
        torch.set_num_threads(1);
        random.manual_seed(seed);
        var model = new BertForSequenceClassification(Tiny, 2);
        PeftMethod method = full
            ? new FullFineTuningMethod()
            : new LoraMethod(new LoraConfig { R = 4, LoraAlpha = 8, LoraDropout = 0.1, TargetModules = TargetModules.FromNames("query", "value", "dense") });
        method.Apply(model);
        return model;
    }

    private static TrainingOptions Options(int epochs) => new() { Epochs = epochs, LearningRate = 3e-3, BatchSize = 8, EvalBatchSize = 16, Seed = 11, LogEverySteps = 2 };

    private static Dictionary<string, float[]> Trainable(BertForSequenceClassification model) =>
        model.named_parameters().Where(p => p.parameter.requires_grad).ToDictionary(p => p.name, p => TrainerCheckpoint.ToArray(p.parameter));

    private static (TrainingResult Result, Dictionary<string, float[]> Weights) Run(string work, int epochs, bool resume = false, ITrainingProgress? progress = null, bool full = false, CancellationToken cancel = default)
    {
        using var model = Model(seed: 3, full);
        var trainer = new Trainer(model, Options(epochs), CPU, padId: 0, work, progress);
        var result = trainer.Train(Task(96, 1), Task(32, 2), "lora", resume, cancel);
        return (result, Trainable(model));
    }

    [Fact]
    public void Learns_the_synthetic_task_and_writes_metrics_and_curve()
    {
        var work = Path.Combine(_dir.Path, "learn");
        var (result, _) = Run(work, epochs: 8, full: true);
        foreach (var e in result.Epochs)
            output.WriteLine($"epoch {e.Epoch}: loss {e.TrainLoss:F4} dev accuracy {e.DevAccuracy:P1}");
        Assert.True(result.BestDevMetric >= 0.8, $"best dev accuracy {result.BestDevMetric}");
        Assert.True(result.Epochs[^1].TrainLoss < result.Epochs[0].TrainLoss);
        var (steps, epochs) = MetricsLog.Read(Path.Combine(work, "metrics.jsonl"));
        Assert.Equal(8, epochs.Count);
        Assert.NotEmpty(steps);
        Assert.True(new FileInfo(Path.Combine(work, "training_curve.png")).Length > 1000);
    }

    [Fact]
    public void Same_seed_gives_identical_weights()
    {
        var (_, a) = Run(Path.Combine(_dir.Path, "a"), epochs: 2);
        var (_, b) = Run(Path.Combine(_dir.Path, "b"), epochs: 2);
        foreach (var (name, values) in a)
            Assert.Equal(values, b[name]);
    }

    [Fact]
    public void Interrupted_run_resumes_to_the_same_weights()
    {
        var (_, uninterrupted) = Run(Path.Combine(_dir.Path, "full"), epochs: 2);

        var work = Path.Combine(_dir.Path, "resumed");
        using var cancel = new CancellationTokenSource();
        var stopper = new StepHook(step => { if (step == 17) cancel.Cancel(); });
        Assert.Throws<OperationCanceledException>(() => Run(work, epochs: 2, progress: stopper, cancel: cancel.Token));
        Assert.True(File.Exists(Path.Combine(work, "last", "state.json")));
        var (result, resumed) = Run(work, epochs: 2, resume: true);
        Assert.Equal(2, result.Epochs.Count);
        foreach (var (name, values) in uninterrupted)
            Assert.Equal(values, resumed[name]);
    }

    [Fact]
    public void Live_tensor_count_stays_flat_across_steps()
    {
        var live = new List<long>();
        var hook = new StepHook(_ => live.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount));
        Run(Path.Combine(_dir.Path, "memory"), epochs: 2, progress: hook);
        output.WriteLine($"live tensors after each step: {string.Join(" ", live)}");
        // After the optimizer state exists (step 2), every step must leave exactly as many live tensors as it found.
        Assert.All(live.Skip(2), count => Assert.Equal(live[2], count));
    }

    [Fact]
    public void Max_steps_and_eval_steps_evaluate_every_n_steps_and_at_the_end()
    {
        using var model = Model(seed: 3);
        var work = Path.Combine(_dir.Path, "steps");
        var trainer = new Trainer(model, Options(epochs: 1) with { MaxSteps = 18, EvalSteps = 8 }, CPU, padId: 0, work);
        var result = trainer.Train(Task(96, 1), Task(32, 2), "lora", resume: false, CancellationToken.None);
        // 12 steps per epoch: max-steps 18 runs into the second epoch, past --epochs 1.
        Assert.Equal(18, result.Steps);
        Assert.Equal([8, 16, 18], result.Epochs.Select(e => e.Step));
        Assert.Equal(2, result.Epochs[^1].Epoch);
        Assert.Contains(result.Epochs, e => e.Best && e.Step == result.BestStep);
        Assert.False(result.StoppedEarly);
    }

    [Fact]
    public void Save_steps_save_the_resumable_checkpoint_between_evaluations()
    {
        using var model = Model(seed: 3);
        var work = Path.Combine(_dir.Path, "save");
        int? savedAtStep7 = null;
        var hook = new StepHook(step =>
        {
            if (step == 7)
                savedAtStep7 = PeftOnnx.Core.Json.PeftJson.Load<TrainerState>(Path.Combine(work, "last", "state.json")).GlobalStep;
        });
        var trainer = new Trainer(model, Options(epochs: 1) with { SaveSteps = 3 }, CPU, padId: 0, work, hook);
        trainer.Train(Task(96, 1), Task(32, 2), "lora", resume: false, CancellationToken.None);
        Assert.Equal(6, savedAtStep7);
    }

    [Fact]
    public void A_time_limit_before_any_evaluation_still_ends_with_an_evaluated_best_checkpoint()
    {
        using var model = Model(seed: 3);
        var messages = new List<string>();
        var trainer = new Trainer(model, Options(epochs: 2) with { TimeLimit = TimeSpan.Zero }, CPU, padId: 0, Path.Combine(_dir.Path, "time"), new StepHook(_ => { }, messages.Add));
        var result = trainer.Train(Task(96, 1), Task(32, 2), "lora", resume: false, CancellationToken.None);
        Assert.True(result.StoppedEarly);
        var evaluation = Assert.Single(result.Epochs);
        Assert.True(evaluation.Best);
        Assert.Equal(1, result.BestEpoch);
        Assert.True(File.Exists(Path.Combine(trainer.BestCheckpoint, "trainable.safetensors")));
        Assert.Contains(messages, m => m.StartsWith("time limit", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains($"keeping the best-dev checkpoint (epoch 1, step {result.BestStep})", StringComparison.Ordinal));
    }

    [Fact]
    public void A_short_run_logs_the_loss_often_enough_to_draw_a_line()
    {
        using var model = Model(seed: 3);
        var work = Path.Combine(_dir.Path, "short");
        var trainer = new Trainer(model, Options(epochs: 1) with { MaxSteps = 6, LogEverySteps = 10 }, CPU, padId: 0, work);
        trainer.Train(Task(96, 1), Task(32, 2), "lora", resume: false, CancellationToken.None);
        var (steps, _) = MetricsLog.Read(trainer.MetricsPath);
        Assert.True(steps.Count >= 2, $"{steps.Count} loss points");
    }

    private sealed class StepHook(Action<int> onStep, Action<string>? onMessage = null) : ITrainingProgress
    {
        public void TrainingStarted(int totalSteps, int completedSteps)
        {
        }

        public void StepCompleted(int epoch, int completedSteps, double loss, double learningRate) => onStep(completedSteps);

        public void EpochEvaluated(EpochSummary summary)
        {
        }

        public void Message(string text) => onMessage?.Invoke(text);
    }
}
