using System.CommandLine;
using PeftOnnx.Cli.Commands.Common;
#if !EDGE
using PeftOnnx.Cli.Commands.Eval.Report;
#endif
using PeftOnnx.Runtime.Evaluation;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Scoring;
using Spectre.Console;

namespace PeftOnnx.Cli.Commands.Eval;

/// <summary>
/// `peftonnx eval`: accuracy, macro-F1 and the confusion matrix of a model on labelled data. A classification
/// bundle predicts its own labels; a base model classifies zero-shot over --labels or the data's labels. A multi-label
/// bundle is evaluated on "labels" lists: subset accuracy, micro/macro-F1, per-label precision/recall. --report
/// writes an HTML page and a PNG (Report/EvalReportPage; not in the edge build). A parallel bundle is evaluated on one
/// task (--task): the data's labels are that task's.
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
        var adapter = new Option<string?>("--adapter") { Description = "Side or mixed bundle: the adapter to evaluate (adapters/<name>.onnx_adapter; default: the bundle's only adapter)." };
        var task = new Option<string?>("--task") { Description = "Parallel bundle: the task whose labels the data has (bundle.json \"tasks\"; default: the bundle's only task)." };
        var report = new Option<FileInfo?>("--report") { Description = "Also write an HTML report (confusion heatmap, per-label precision/recall/F1, the most confused pairs with example documents) to this file, and its chart as a PNG beside it." };
        var command = new Command("eval", "Evaluate a model on labelled data: accuracy, macro-F1, per-label scores, confusion matrix (multi-label: subset accuracy, micro/macro-F1).")
        {
            model, data, labels, json, output, device, threads, batchSize, maxLength, aggregate, modelsDir, skipVerify, adapter, task, report,
        };
        CliAction.Set(command, async (result, context, cancellationToken) =>
        {
            CliOptions.RequireBatchSize(result.GetValue(batchSize));
            if (result.GetValue(report) is { DirectoryName: { } reportFolder } && !Directory.Exists(reportFolder))
                throw new UsageException($"--report {result.GetValue(report)!.FullName}: folder {reportFolder} does not exist.");
            var examples = LabelledDataReader.Read(result.GetValue(data)!);
            var zeroShot = CliOptions.ParseLabels(result.GetValue(labels));
            var directory = ModelLocator.Resolve(result.GetValue(model)!, result.GetValue(modelsDir));
            using var onnx = EvaluatedModel.Load(directory, result.GetValue(adapter), result.GetValue(task), CliOptions.SessionSettings(result, device, threads), context.Logger("eval"), !result.GetValue(skipVerify));

            IReadOnlyList<string> modelLabels;
            if (onnx.IsClassifier)
            {
                if (zeroShot is not null)
                    throw new UsageException($"--labels is for zero-shot with a base model; {onnx.Name} is a classifier with its own labels.");
                modelLabels = onnx.Labels!;
            }
            else
            {
                modelLabels = zeroShot ?? examples.Select(e => e.Label).Distinct().Order(StringComparer.Ordinal).ToList();
                if (modelLabels.Count < 2)
                    throw new InvalidDataException($"{result.GetValue(data)} has only the label '{modelLabels[0]}'; zero-shot evaluation needs at least two.");
            }
            var multiLabel = onnx.IsClassifier && onnx.IsMultiLabel;
            RequireLabelKind(examples, multiLabel, result.GetValue(data)!, onnx.Name);
            var unknown = examples.SelectMany(e => e.Labels ?? [e.Label]).Distinct().Where(l => !modelLabels.Contains(l)).Order(StringComparer.Ordinal).ToList();
            if (unknown.Count > 0)
                throw new InvalidDataException($"{result.GetValue(data)} has labels the model cannot predict: {string.Join(", ", unknown)} (model labels: {string.Join(", ", modelLabels)}).");

            var scorer = onnx.CreateScorer(new ScorerOptions
            {
                BatchSize = result.GetValue(batchSize),
                MaxLength = result.GetValue(maxLength),
                Aggregation = result.GetValue(aggregate),
                ZeroShotLabels = onnx.IsClassifier ? null : modelLabels,
            });
            var predicted = new List<IReadOnlyList<string>>(examples.Count);
            await context.Progress.Progress().StartAsync(async progress =>
            {
                var bar = progress.AddTask("evaluating", maxValue: examples.Count);
                foreach (var chunk in examples.Chunk(ExamplesPerCall))
                {
                    var scores = await Task.Run(() => scorer.Score(chunk.Select(e => e.Text).ToList(), cancellationToken), cancellationToken);
                    predicted.AddRange(scores.Select(onnx.Evaluated).Select(s => s.PredictedLabels ?? [s.Label!]));
                    bar.Increment(chunk.Length);
                }
            });

            var mode = multiLabel ? "multi-label" : onnx.IsClassifier ? "classifier" : "zero-shot";
            var outcome = EvalOutcome.Compute(onnx.ModelId(scorer), mode, modelLabels, examples, predicted, onnx.Thresholds, multiLabel);
            using var writer = new ResultWriter(context, result.GetValue(output));
            if (result.GetValue(json))
            {
                writer.Writer.WriteLine(outcome.Multi is { } multi
                    ? CliJson.Line(new MultiLabelEvalReport(outcome.ModelId, mode, multi, outcome.Thresholds))
                    : CliJson.Line(new EvalReport(outcome.ModelId, mode, outcome.Single!)));
            }
            else if (outcome.Multi is { } multi)
                WriteMultiLabelReport(writer.Writer, outcome.ModelId, multi, outcome.Thresholds);
            else
                WriteReport(writer.Writer, outcome.ModelId, onnx.IsClassifier, outcome.Single!);
            writer.Commit();
            if (result.GetValue(report) is { } reportFile)
            {
#if EDGE
                throw new UsageException("--report is left out of the edge build (its chart needs ScottPlot); run eval --report with the full peftonnx.");
#else
                var png = EvalReportPage.Write(reportFile.FullName, outcome);
                await context.Error.WriteLineAsync($"report: {reportFile.FullName} (chart: {png})");
#endif
            }
            return 0;
        });
        return command;
    }

    internal sealed record EvalReport(string Model, string Mode, ClassificationMetrics Metrics);

    internal sealed record MultiLabelEvalReport(string Model, string Mode, MultiLabelMetrics Metrics, IReadOnlyList<float>? Thresholds);

    /// <summary>A multi-label model needs "labels" lists, a single-label or zero-shot one a "label" per item.</summary>
    private static void RequireLabelKind(IReadOnlyList<LabelledExample> examples, bool multiLabel, string dataPath, string modelName)
    {
        var wrong = examples.FirstOrDefault(e => (e.Labels is not null) != multiLabel);
        if (wrong is null)
            return;
        throw new InvalidDataException(multiLabel
            ? $"{dataPath}: item '{wrong.Id}' has one \"label\" ('{wrong.Label}'), but {modelName} is a multi-label classifier; give every item a \"labels\" list, e.g. \"labels\": [\"{wrong.Label}\"]."
            : $"{dataPath}: item '{wrong.Id}' has a \"labels\" list (multi-label data), but {modelName} predicts one label per document; evaluate a multi-label bundle (peftonnx-export train --multi-label) on it.");
    }

    private static void WriteMultiLabelReport(TextWriter writer, string modelId, MultiLabelMetrics metrics, IReadOnlyList<float>? thresholds)
    {
        var console = PlainConsole(writer, Math.Max(80, (metrics.Labels.Max(l => l.Length) + 4) * (metrics.Labels.Count + 1)));
        writer.WriteLine($"model: {modelId} (multi-label classifier)");
        writer.WriteLine($"examples: {metrics.Count}");
        writer.WriteLine($"subset accuracy: {metrics.SubsetAccuracy:P2}");
        writer.WriteLine($"micro-F1: {metrics.MicroF1:F4} (precision {metrics.MicroPrecision:F4}, recall {metrics.MicroRecall:F4})");
        writer.WriteLine($"macro-F1: {metrics.MacroF1:F4}");
        var perLabel = new Table().AddColumns("label", "threshold", "precision", "recall", "F1", "support", "predicted");
        for (var i = 0; i < metrics.PerLabel.Count; i++)
        {
            var m = metrics.PerLabel[i];
            perLabel.AddRow(Markup.Escape(m.Label), thresholds is null ? "0.5" : $"{thresholds[i]:F3}", $"{m.Precision:F3}", $"{m.Recall:F3}", $"{m.F1:F3}", m.Support.ToString(), m.Predicted.ToString());
        }
        console.Write(perLabel);
        writer.WriteLine("label confusion (rows: gold label missed, columns: label given instead; diagonal: correct labels)");
        WriteConfusion(console, metrics.Labels, metrics.Confusion);
    }

    private static IAnsiConsole PlainConsole(TextWriter writer, int width)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = width;
        return console;
    }

    private static void WriteConfusion(IAnsiConsole console, IReadOnlyList<string> labels, int[][] confusion)
    {
        var table = new Table().AddColumn("gold \\ predicted");
        foreach (var label in labels)
            table.AddColumn(new TableColumn(Markup.Escape(label)).RightAligned());
        for (var g = 0; g < labels.Count; g++)
            table.AddRow([Markup.Escape(labels[g]), .. confusion[g].Select(c => c.ToString())]);
        console.Write(table);
    }

    private static void WriteReport(TextWriter writer, string modelId, bool classifier, ClassificationMetrics metrics)
    {
        // Wide enough that no label is wrapped: a report is read in a file or a pager, not on an 80-column screen.
        var labelWidth = metrics.Labels.Max(l => l.Length);
        var console = PlainConsole(writer, Math.Max(80, Math.Max(labelWidth, "gold \\ predicted".Length) + 4 + (metrics.Labels.Count * (Math.Max(labelWidth, 5) + 3)) + 1));
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
        WriteConfusion(console, metrics.Labels, metrics.Confusion);
    }
}
