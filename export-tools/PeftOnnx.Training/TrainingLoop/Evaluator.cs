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
    public static int[] Predict(BertForSequenceClassification model, IReadOnlyList<TokenizedExample> examples, int batchSize, int padId, Device device)
    {
        var predictions = new int[examples.Count];
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var inference = inference_mode();
            foreach (var indices in LengthBuckets.ForEvaluation(examples, batchSize))
            {
                using var scope = NewDisposeScope();
                var (batch, _) = BatchCollator.Collate(examples, indices, padId, device);
                var predicted = model.forward(batch).argmax(-1).cpu().data<long>().ToArray();
                for (var i = 0; i < indices.Length; i++)
                    predictions[indices[i]] = (int)predicted[i];
            }
        }
        finally
        {
            model.train(wasTraining);
        }
        return predictions;
    }

    /// <summary>Accuracy and macro-F1 of the model on the examples; labels are named by class index.</summary>
    public static ClassificationMetrics Evaluate(BertForSequenceClassification model, IReadOnlyList<TokenizedExample> examples, int batchSize, int padId, Device device)
    {
        var labels = Enumerable.Range(0, model.NumLabels).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        return ClassificationMetrics.Compute(labels, examples.Select(e => e.Label).ToArray(), Predict(model, examples, batchSize, padId, device));
    }
}
