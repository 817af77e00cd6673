using System.CommandLine;
using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Training;
using PeftOnnx.Training.Data;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Methods;
using PeftOnnx.Training.TrainingLoop;

namespace PeftOnnx.Export.Cli.Commands.Train;

/// <summary>The options of `peftonnx-export train` other than the method's (<see cref="MethodOptions"/>), turned into a <see cref="FineTuningRequest"/>.</summary>
internal sealed class TrainOptions
{
    public Option<string> BaseModel { get; } = new("--base", "-b") { Description = "Base model folder (model.json, model.onnx, vocab.txt), e.g. models/minilm-l6.", Required = true };
    public Option<string> Train { get; } = new("--train") { Description = "Training data: .jsonl / .csv with text and label, or a folder with one sub-folder per label.", Required = true };
    public Option<string?> Dev { get; } = new("--dev") { Description = "Dev data (same formats); default: a seeded stratified 10% of --train." };
    public Option<string?> Test { get; } = new("--test") { Description = "Test data, scored once with the best-dev checkpoint." };
    public Option<string> Output { get; } = new Option<string>("--output", "-o") { Description = "Output folder: the adapter to write (PEFT format; probe/full: a transformers model folder).", Required = true }.WithLegacyAlias("--out");
    public Option<string?> Preset { get; } = new("--preset") { Description = "quick: a useful LoRA adapter in minutes on a laptop CPU (--max-length 64 --max-steps 150 --eval-steps 75 --lr 2e-3); options given explicitly win." };
    public Option<bool> MultiLabel { get; } = new("--multi-label") { Description = "Multi-label data (\"labels\": [...] per row): one sigmoid per label, binary cross-entropy, per-label thresholds tuned on dev (saved in training.json)." };
    public Option<int> Epochs { get; } = new("--epochs") { Description = "Epochs.", DefaultValueFactory = _ => 10 };
    public Option<int?> MaxSteps { get; } = new("--max-steps") { Description = "Train this many optimizer steps instead of --epochs (the learning rate decays to 0 there)." };
    public Option<int?> EvalSteps { get; } = new("--eval-steps") { Description = "Evaluate on dev (and keep the best checkpoint) every this many steps and at the end, instead of after each epoch." };
    public Option<int?> SaveSteps { get; } = new("--save-steps") { Description = "Also save the resumable checkpoint every this many steps (it is saved after every evaluation)." };
    public Option<double?> Lr { get; } = new("--lr") { Description = "Peak learning rate (default: full 5e-5, probe 2e-3, ia3 5e-3, prompt/prefix 1e-2, others 1e-3)." };
    public Option<int> Batch { get; } = new Option<int>("--batch-size") { Description = "Training batch size.", DefaultValueFactory = _ => 32 }.WithLegacyAlias("--batch");
    public Option<int> MaxLength { get; } = new("--max-length") { Description = "Truncate documents to this many tokens.", DefaultValueFactory = _ => 128 };
    public Option<int> Seed { get; } = new("--seed") { Description = "Seed for initialisation, batch order, dropout and the dev split.", DefaultValueFactory = _ => 1 };
    public Option<double> WeightDecay { get; } = new("--weight-decay") { Description = "AdamW weight decay (not on biases and LayerNorm).", DefaultValueFactory = _ => 0.01 };
    public Option<double> Warmup { get; } = new("--warmup") { Description = "Warm-up fraction of all steps.", DefaultValueFactory = _ => 0.06 };
    public Option<int> Patience { get; } = new("--patience") { Description = "Early stopping: epochs without a better dev metric (0 = off).", DefaultValueFactory = _ => 0 };
    public Option<string> Metric { get; } = new("--metric") { Description = "Dev metric that picks the best checkpoint: accuracy or macro_f1.", DefaultValueFactory = _ => "accuracy" };
    public Option<string> Pooling { get; } = new("--pooling") { Description = "pooler (BertForSequenceClassification: tanh(dense([CLS]))) or mean.", DefaultValueFactory = _ => "pooler" };
    public Option<string> Device { get; } = new("--device") { Description = "auto (CUDA when TorchSharp reports it), cpu or cuda.", DefaultValueFactory = _ => "auto" };
    public Option<int> Threads { get; } = new("--threads") { Description = "libtorch CPU threads (0 = all cores).", DefaultValueFactory = _ => 0 };
    public Option<double?> TimeLimit { get; } = new("--time-limit") { Description = "Stop after this many minutes of training, evaluate on dev if the last steps were not, and keep the best-dev checkpoint." };
    public Option<bool> Checkpointing { get; } = new("--gradient-checkpointing") { Description = "Recompute each transformer block in the backward pass: much less activation memory for about one more forward pass per step." };
    public Option<string?> WorkDir { get; } = new("--work-dir") { Description = "Checkpoints and metrics while training (default: <output>.work, removed when the run succeeds; a --work-dir is kept)." };
    public Option<bool> Resume { get; } = new("--resume") { Description = "Continue from the last checkpoint in the work folder." };
    public Option<bool> Overwrite { get; } = new("--overwrite") { Description = "Replace an existing --output folder." };

    public IEnumerable<Option> All => [BaseModel, Train, Dev, Test, Output, Preset, MultiLabel, Epochs, MaxSteps, EvalSteps, SaveSteps, Lr, Batch, MaxLength, Seed, WeightDecay, Warmup, Patience, Metric, Pooling, Device, Threads, TimeLimit, Checkpointing, WorkDir, Resume, Overwrite];

    public TrainOptions()
    {
        Preset.AcceptOnlyFromAmong(TrainPreset.Names);
        Metric.AcceptOnlyFromAmong("accuracy", "macro_f1");
        Pooling.AcceptOnlyFromAmong("pooler", "mean");
        Device.AcceptOnlyFromAmong("auto", "cpu", "cuda");
    }

    public FineTuningRequest ToRequest(ParseResult p, PeftMethod method)
    {
        var preset = TrainPreset.Find(p.GetValue(Preset));
        // A preset fills in the options the command line leaves at their defaults.
        bool Given(Option option) => p.GetResult(option) is { Implicit: false };
        T Value<T>(Option<T> option, T? fromPreset) where T : struct
            => Given(option) || fromPreset is null ? p.GetValue(option) : fromPreset.Value;
        T? Optional<T>(Option<T?> option, T? fromPreset) where T : struct
            => Given(option) ? p.GetValue(option) : fromPreset ?? p.GetValue(option);
        return new()
    {
        BaseDirectory = p.GetValue(BaseModel)!,
        TrainPath = p.GetValue(Train)!,
        DevPath = p.GetValue(Dev),
        TestPath = p.GetValue(Test),
        Method = method,
        Pooling = p.GetValue(Pooling) == "mean" ? PeftOnnx.Training.Encoder.Pooling.Mean : PeftOnnx.Training.Encoder.Pooling.Pooler,
        MaxLength = Value(MaxLength, preset?.MaxLength),
        MultiLabel = p.GetValue(MultiLabel),
        Options = new TrainingOptions
        {
            Epochs = p.GetValue(Epochs),
            LearningRate = Optional(Lr, preset?.LearningRate) ?? MethodOptions.DefaultLearningRate(method.Name),
            MaxSteps = Optional(MaxSteps, preset?.MaxSteps),
            EvalSteps = Optional(EvalSteps, preset?.EvalSteps),
            SaveSteps = p.GetValue(SaveSteps),
            BatchSize = p.GetValue(Batch),
            Seed = p.GetValue(Seed),
            WeightDecay = p.GetValue(WeightDecay),
            WarmupRatio = p.GetValue(Warmup),
            EarlyStoppingPatience = p.GetValue(Patience),
            SelectionMetric = p.GetValue(Metric)!,
            TimeLimit = p.GetValue(TimeLimit) is { } minutes ? TimeSpan.FromMinutes(minutes) : null,
            GradientCheckpointing = p.GetValue(Checkpointing),
        },
        OutputDirectory = p.GetValue(Output)!,
        WorkDirectory = p.GetValue(WorkDir),
        Resume = p.GetValue(Resume),
        Overwrite = p.GetValue(Overwrite),
        Device = p.GetValue(Device)!,
        Threads = p.GetValue(Threads),
    };
    }
}
