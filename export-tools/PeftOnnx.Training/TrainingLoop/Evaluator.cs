using System.Globalization;
using PeftOnnx.Runtime.Evaluation;
using PeftOnnx.Training.Data;
using PeftOnnx.Training.Encoder;
using TorchSharp;
using static TorchSharp.torch;

namespace PeftOnnx.Training.TrainingLoop;

/// <summary>Predicts classes for tokenized examples in inference mode (no autograd graph), batched by length.</summary>
public static class Evaluator
{
    public static int[] Predict(BertForSequenceClassification model, IReadOnlyList<TokenizedExample> examples, int batchSize, int padId, Device device) =>
        Run(model, examples, batchSize, padId, device, logits => logits.argmax(-1).cpu().data<long>().Select(p => (int)p).ToArray());

    /// <summary>Per-label sigmoid probabilities (documents, labels) of a multi-label model.</summary>
    public static float[][] Probabilities(BertForSequenceClassification model, IReadOnlyList<TokenizedExample> examples, int batchSize, int padId, Device device)
    {
        var labels = model.NumLabels;
        return Run(model, examples, batchSize, padId, device, logits =>
        {
            var flat = logits.sigmoid().cpu().data<float>().ToArray(); // (B, labels) row-major
            return Enumerable.Range(0, flat.Length / labels).Select(r => flat.AsSpan(r * labels, labels).ToArray()).ToArray();
        });
    }

    /// <summary>Accuracy and macro-F1 of the model on the examples; labels are named by class index.</summary>
    public static ClassificationMetrics Evaluate(BertForSequenceClassification model, IReadOnlyList<TokenizedExample> examples, int batchSize, int padId, Device device) =>
        ClassificationMetrics.Compute(Names(model), examples.Select(e => e.Label).ToArray(), Predict(model, examples, batchSize, padId, device));

    /// <summary>Multi-label metrics with a label chosen where its probability reaches its threshold.</summary>
    public static MultiLabelMetrics EvaluateMultiLabel(BertForSequenceClassification model, IReadOnlyList<TokenizedExample> examples, IReadOnlyList<float> thresholds, int batchSize, int padId, Device device) =>
        MultiLabel(model, examples, Probabilities(model, examples, batchSize, padId, device), thresholds);

    /// <summary>
    /// The dev metrics that pick the checkpoint: accuracy and macro-F1; for a multi-label model subset accuracy and
    /// macro-F1 with thresholds tuned on these dev probabilities, as the saved model will use them (at a fixed 0.5 an
    /// early model that ranks well but predicts no label at all would score 0 at every evaluation).
    /// </summary>
    public static (double Accuracy, double MacroF1) DevMetrics(BertForSequenceClassification model, IReadOnlyList<TokenizedExample> examples, int batchSize, int padId, Device device)
    {
        if (!model.MultiLabel)
        {
            var metrics = Evaluate(model, examples, batchSize, padId, device);
            return (metrics.Accuracy, metrics.MacroF1);
        }
        var probabilities = Probabilities(model, examples, batchSize, padId, device);
        var multi = MultiLabel(model, examples, probabilities, ThresholdTuning.Tune(probabilities, Gold(examples), model.NumLabels));
        return (multi.SubsetAccuracy, multi.MacroF1);
    }

    private static MultiLabelMetrics MultiLabel(BertForSequenceClassification model, IReadOnlyList<TokenizedExample> examples, float[][] probabilities, IReadOnlyList<float> thresholds)
    {
        var predicted = probabilities.Select(row => (IReadOnlyList<int>)Enumerable.Range(0, row.Length).Where(l => row[l] >= thresholds[l]).ToArray()).ToArray();
        return MultiLabelMetrics.Compute(Names(model), Gold(examples), predicted);
    }

    public static IReadOnlyList<IReadOnlyList<int>> Gold(IReadOnlyList<TokenizedExample> examples) =>
        examples.Select(e => (IReadOnlyList<int>)(e.LabelIds ?? throw new ArgumentException("a multi-label evaluation needs examples with label lists."))).ToArray();

    private static string[] Names(BertForSequenceClassification model) =>
        Enumerable.Range(0, model.NumLabels).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();

    /// <summary>Runs the model over length-bucketed batches and puts each row's result back at its example's index.</summary>
    private static T[] Run<T>(BertForSequenceClassification model, IReadOnlyList<TokenizedExample> examples, int batchSize, int padId, Device device, Func<Tensor, T[]> perRow)
    {
        var results = new T[examples.Count];
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var inference = inference_mode();
            foreach (var indices in LengthBuckets.ForEvaluation(examples, batchSize))
            {
                using var scope = NewDisposeScope();
                var (batch, _) = BatchCollator.Collate(examples, indices, padId, device, model.NumLabels);
                var rows = perRow(model.forward(batch));
                for (var i = 0; i < indices.Length; i++)
                    results[indices[i]] = rows[i];
            }
        }
        finally
        {
            model.train(wasTraining);
        }
        return results;
    }
}
