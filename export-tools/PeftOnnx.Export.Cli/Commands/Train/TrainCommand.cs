using System.CommandLine;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.Models;
using PeftOnnx.Training;
using PeftOnnx.Training.Data;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.TrainingLoop;
using Spectre.Console;

namespace PeftOnnx.Export.Cli.Commands.Train;

/// <summary>
/// `peftonnx-export train`: fine-tune a base model for sequence classification with a PEFT method (or a
/// baseline) and write the adapter folder. Progress on stderr; a one-line summary on stdout.
/// Ctrl-C stops after the current step and saves a checkpoint that --resume continues from.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var baseModel = new Option<string>("--base", "-b") { Description = "Base model folder (model.json, model.onnx, vocab.txt), e.g. models/minilm-l6.", Required = true };
        var train = new Option<string>("--train") { Description = "Training data: .jsonl / .csv with text and label, or a folder with one sub-folder per label.", Required = true };
        var dev = new Option<string?>("--dev") { Description = "Dev data (same formats); default: a seeded stratified 10% of --train." };
        var test = new Option<string?>("--test") { Description = "Test data, scored once with the best-dev checkpoint." };
        var output = new Option<string>("--out", "-o") { Description = "Adapter folder to write (PEFT format; probe/full: a transformers model folder).", Required = true };
        var epochs = new Option<int>("--epochs") { Description = "Epochs.", DefaultValueFactory = _ => 10 };
        var lr = new Option<double?>("--lr") { Description = "Peak learning rate (default: full 5e-5, probe 2e-3, ia3 5e-3, prompt/prefix 1e-2, others 1e-3)." };
        var batch = new Option<int>("--batch") { Description = "Training batch size.", DefaultValueFactory = _ => 32 };
        var maxLength = new Option<int>("--max-length") { Description = "Truncate documents to this many tokens.", DefaultValueFactory = _ => 128 };
        var seed = new Option<int>("--seed") { Description = "Seed for initialisation, batch order, dropout and the dev split.", DefaultValueFactory = _ => 1 };
        var weightDecay = new Option<double>("--weight-decay") { Description = "AdamW weight decay (not on biases and LayerNorm).", DefaultValueFactory = _ => 0.01 };
        var warmup = new Option<double>("--warmup") { Description = "Warm-up fraction of all steps.", DefaultValueFactory = _ => 0.06 };
        var patience = new Option<int>("--patience") { Description = "Early stopping: epochs without a better dev metric (0 = off).", DefaultValueFactory = _ => 0 };
        var metric = new Option<string>("--metric") { Description = "Dev metric that picks the best checkpoint: accuracy or macro_f1.", DefaultValueFactory = _ => "accuracy" };
        metric.AcceptOnlyFromAmong("accuracy", "macro_f1");
        var pooling = new Option<string>("--pooling") { Description = "pooler (BertForSequenceClassification: tanh(dense([CLS]))) or mean.", DefaultValueFactory = _ => "pooler" };
        pooling.AcceptOnlyFromAmong("pooler", "mean");
        var device = new Option<string>("--device") { Description = "auto (CUDA when TorchSharp reports it), cpu or cuda.", DefaultValueFactory = _ => "auto" };
        device.AcceptOnlyFromAmong("auto", "cpu", "cuda");
        var threads = new Option<int>("--threads") { Description = "libtorch CPU threads (0 = all cores).", DefaultValueFactory = _ => 0 };
        var timeLimit = new Option<double?>("--time-limit") { Description = "Stop after this many minutes of training and keep the best-dev checkpoint so far." };
        var checkpointing = new Option<bool>("--gradient-checkpointing") { Description = "Recompute each transformer block in the backward pass: much less activation memory for about one more forward pass per step." };
        var workDir = new Option<string?>("--work-dir") { Description = "Checkpoints and metrics while training (default: <out>.work)." };
        var resume = new Option<bool>("--resume") { Description = "Continue from the last checkpoint in the work folder." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing --out folder." };
        var methods = new MethodOptions();

        var command = new Command("train", "Fine-tune a base model for sequence classification and write a PEFT adapter folder.")
        {
            baseModel, train, dev, test, output, epochs, lr, batch, maxLength, seed, weightDecay, warmup, patience, metric, pooling, device, threads, timeLimit, checkpointing, workDir, resume, overwrite,
        };
        foreach (var option in methods.All)
            command.Options.Add(option);

        command.SetAction(parseResult =>
        {
            var stderr = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            using var cancellation = new CancellationTokenSource();
            void OnCancel(object? sender, ConsoleCancelEventArgs e)
            {
                // First Ctrl-C: finish the step, save a checkpoint, exit. A second one kills the process.
                if (cancellation.IsCancellationRequested)
                    return;
                e.Cancel = true;
                cancellation.Cancel();
            }
            Console.CancelKeyPress += OnCancel;
            try
            {
                var baseDir = parseResult.GetValue(baseModel)!;
                var manifest = PeftJson.Load<ModelManifest>(Path.Combine(baseDir, ModelManifest.FileName));
                var method = methods.Create(parseResult, BertConfig.FromArchitecture(manifest.Architecture));
                var request = new FineTuningRequest
                {
                    BaseDirectory = baseDir,
                    TrainPath = parseResult.GetValue(train)!,
                    DevPath = parseResult.GetValue(dev),
                    TestPath = parseResult.GetValue(test),
                    Method = method,
                    Pooling = parseResult.GetValue(pooling) == "mean" ? Pooling.Mean : Pooling.Pooler,
                    MaxLength = parseResult.GetValue(maxLength),
                    Options = new TrainingOptions
                    {
                        Epochs = parseResult.GetValue(epochs),
                        LearningRate = parseResult.GetValue(lr) ?? MethodOptions.DefaultLearningRate(method.Name),
                        BatchSize = parseResult.GetValue(batch),
                        Seed = parseResult.GetValue(seed),
                        WeightDecay = parseResult.GetValue(weightDecay),
                        WarmupRatio = parseResult.GetValue(warmup),
                        EarlyStoppingPatience = parseResult.GetValue(patience),
                        SelectionMetric = parseResult.GetValue(metric)!,
                        TimeLimit = parseResult.GetValue(timeLimit) is { } minutes ? TimeSpan.FromMinutes(minutes) : null,
                        GradientCheckpointing = parseResult.GetValue(checkpointing),
                    },
                    OutputDirectory = parseResult.GetValue(output)!,
                    WorkDirectory = parseResult.GetValue(workDir),
                    Resume = parseResult.GetValue(resume),
                    Overwrite = parseResult.GetValue(overwrite),
                    Device = parseResult.GetValue(device)!,
                    Threads = parseResult.GetValue(threads),
                };
                var progress = new ConsoleTrainingProgress(stderr);
                var report = progress.Run(() => FineTuningRun.Run(request, progress, cancellation.Token));
                var testSummary = report.TestAccuracy is { } acc ? $", test accuracy {acc:P2} (macro-F1 {report.TestMacroF1:P2})" : "";
                Console.Out.WriteLine(
                    $"{Path.GetFullPath(request.OutputDirectory)}: {report.Method}, {report.TrainableParameters:N0} trainable ({report.TrainablePercent:F2}%), " +
                    $"best epoch {report.BestEpoch}, dev accuracy {report.DevAccuracy:P2}{testSummary}, {report.WallSeconds:F0} s, peak {report.PeakMemoryBytes / 1048576.0:F0} MiB");
                return 0;
            }
            catch (OperationCanceledException e)
            {
                stderr.MarkupLineInterpolated($"[yellow]{e.Message}[/]");
                return 130;
            }
            catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or NotSupportedException or DatasetFormatException or InvalidOperationException)
            {
                stderr.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                return 1;
            }
            finally
            {
                Console.CancelKeyPress -= OnCancel;
            }
        });
        return command;
    }
}
