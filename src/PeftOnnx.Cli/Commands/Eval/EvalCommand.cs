using System.CommandLine;
using System.Text.Json;
using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Runtime.Evaluation;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Scoring;
using Spectre.Console;

namespace PeftOnnx.Cli.Commands.Eval;

/// <summary>
/// `peftonnx eval`: accuracy, macro-F1 and the confusion matrix of a model on labelled data. A classification
/// bundle predicts its own labels; a base model classifies zero-shot over --labels or the data's labels.
/// </summary>
internal static class EvalCommand
{
    private const int ExamplesPerCall = 128;

    public static Command Create()
    {
        var model = CliOptions.Model();
        var data = new Option<string>("--data", "-d") { Description = "Labelled data: .jsonl with text and label ({\"id\",\"label\",\"text\"}), .csv with text,label columns, or a folder with one subfolder per label.", Required = true };
        var labels = CliOptions.Labels();
        labels.Description = "Zero-shot labels for a base model (default: the labels found in --data).";
        var json = new Option<bool>("--json") { Description = "Print the metrics as one JSON object." };
        var output = CliOptions.Output();
        var device = CliOptions.Device();
        var threads = CliOptions.Threads();
        var batchSize = CliOptions.BatchSize();
        var maxLength = CliOptions.MaxLength();
        var aggregate = CliOptions.Aggregate();
        var modelsDir = CliOptions.ModelsDir();
        var skipVerify = CliOptions.SkipVerify();
        var command = new Command("eval", "Evaluate a model on labelled data: accuracy, macro-F1, per-label scores, confusion matrix.")
        {
            model, data, labels, json, output, device, threads, batchSize, maxLength, aggregate, modelsDir, skipVerify,
        };
        CliAction.Set(command, async (result, context, cancellationToken) =>
        {
            CliOptions.RequireBatchSize(result.GetValue(batchSize));
            var examples = LabelledDataReader.Read(result.GetValue(data)!);
            var zeroShot = CliOptions.ParseLabels(result.GetValue(labels));
            var directory = ModelLocator.Resolve(result.GetValue(model)!, result.GetValue(modelsDir));
            using var onnx = OnnxModel.Load(directory, CliOptions.SessionSettings(result, device, threads), context.Logger("eval"), !result.GetValue(skipVerify));

            IReadOnlyList<string> modelLabels;
            if (onnx.IsClassifier)
            {
                if (zeroShot is not null)
                    throw new UsageException($"--labels is for zero-shot with a base model; {onnx.Manifest.Name} is a classifier with its own labels.");
                modelLabels = onnx.Manifest.Labels!;
            }
            else
            {
                modelLabels = zeroShot ?? examples.Select(e => e.Label).Distinct().Order(StringComparer.Ordinal).ToList();
                if (modelLabels.Count < 2)
                    throw new InvalidDataException($"{result.GetValue(data)} has only the label '{modelLabels[0]}'; zero-shot evaluation needs at least two.");
            }
            var unknown = examples.Select(e => e.Label).Distinct().Where(l => !modelLabels.Contains(l)).Order(StringComparer.Ordinal).ToList();
            if (unknown.Count > 0)
                throw new InvalidDataException($"{result.GetValue(data)} has labels the model cannot predict: {string.Join(", ", unknown)} (model labels: {string.Join(", ", modelLabels)}).");

            var scorer = new OnnxTextScorer(onnx, new ScorerOptions
            {
                BatchSize = result.GetValue(batchSize),
                MaxLength = result.GetValue(maxLength),
                Aggregation = result.GetValue(aggregate),
                ZeroShotLabels = onnx.IsClassifier ? null : modelLabels,
            });
            var predicted = new List<string>(examples.Count);
            await context.Progress.Progress().StartAsync(async progress =>
            {
                var task = progress.AddTask("evaluating", maxValue: examples.Count);
                foreach (var chunk in examples.Chunk(ExamplesPerCall))
                {
                    var scores = await Task.Run(() => scorer.Score(chunk.Select(e => e.Text).ToList(), cancellationToken), cancellationToken);
                    predicted.AddRange(scores.Select(s => s.Label!));
                    task.Increment(chunk.Length);
                }
            });

            var metrics = ClassificationMetrics.Compute(modelLabels, examples.Select(e => e.Label).ToList(), predicted);
            using var writer = new ResultWriter(context, result.GetValue(output));
            if (result.GetValue(json))
                writer.Writer.WriteLine(JsonSerializer.Serialize(new EvalReport(onnx.ModelId, onnx.IsClassifier ? "classifier" : "zero-shot", metrics), CliJson.Lines));
            else
                WriteReport(writer.Writer, onnx.ModelId, onnx.IsClassifier, metrics);
            writer.Commit();
            return 0;
        });
        return command;
    }

    private sealed record EvalReport(string Model, string Mode, ClassificationMetrics Metrics);

    private static void WriteReport(TextWriter writer, string modelId, bool classifier, ClassificationMetrics metrics)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        // Wide enough that no label is wrapped: a report is read in a file or a pager, not on an 80-column screen.
        var labelWidth = metrics.Labels.Max(l => l.Length);
        console.Profile.Width = Math.Max(80, Math.Max(labelWidth, "gold \\ predicted".Length) + 4 + (metrics.Labels.Count * (Math.Max(labelWidth, 5) + 3)) + 1);
        writer.WriteLine($"model: {modelId} ({(classifier ? "classifier" : "zero-shot by label similarity")})");
        writer.WriteLine($"examples: {metrics.Count}");
        writer.WriteLine($"accuracy: {metrics.Accuracy:P2}");
        writer.WriteLine($"macro-F1: {metrics.MacroF1:F4}");
        var absent = metrics.PerLabel.Where(m => !m.Counted).Select(m => m.Label).ToList();
        if (absent.Count > 0)
            writer.WriteLine($"  (not averaged, in neither gold nor predictions: {string.Join(", ", absent)})");

        var perLabel = new Table().AddColumns("label", "precision", "recall", "F1", "support");
        foreach (var m in metrics.PerLabel)
            perLabel.AddRow(Markup.Escape(m.Label), $"{m.Precision:F3}", $"{m.Recall:F3}", $"{m.F1:F3}", m.Support.ToString());
        console.Write(perLabel);

        writer.WriteLine("confusion matrix (rows: gold, columns: predicted)");
        var confusion = new Table().AddColumn("gold \\ predicted");
        foreach (var label in metrics.Labels)
            confusion.AddColumn(new TableColumn(Markup.Escape(label)).RightAligned());
        for (var g = 0; g < metrics.Labels.Count; g++)
            confusion.AddRow([Markup.Escape(metrics.Labels[g]), .. metrics.Confusion[g].Select(c => c.ToString())]);
        console.Write(confusion);
    }
}
