using PeftOnnx.Runtime.Evaluation;
using PeftOnnx.Runtime.Tokenization;
using PeftOnnx.Training.Arithmetic;
using PeftOnnx.Training.Data;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.TrainingLoop;
using TorchSharp;

namespace PeftOnnx.Training.Output;

/// <summary>
/// Accuracy and macro-F1 of a PEFT adapter folder on labelled data, with the trainer's own evaluation: the adapter
/// loaded into the base by <see cref="AdapterLoader"/>, predictions from <see cref="Evaluator"/>, labels in the logit
/// order its training.json records. Single-label classifiers only.
/// </summary>
public static class AdapterEvaluation
{
    /// <summary>Whether the folder's classifier can be scored on <paramref name="rows"/>: it records labels and knows every label of the data.</summary>
    public static bool Covers(string adapterDirectory, IReadOnlyList<LabeledText> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return DerivedAdapterRecord.Labels(adapterDirectory) is { } labels && rows.All(r => labels.Contains(r.Label, StringComparer.Ordinal));
    }

    public static ClassificationMetrics Evaluate(BaseEncoder encoder, string adapterDirectory, IReadOnlyList<LabeledText> rows, int maxLength, int batchSize = 64)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(rows);
        var labels = DerivedAdapterRecord.Labels(adapterDirectory)
            ?? throw new InvalidDataException($"{adapterDirectory} records no labels (training.json \"labels\"); evaluation needs the classifier's label order.");
        var multi = rows.FirstOrDefault(r => r.Labels is not null);
        if (multi is not null)
            throw new DatasetFormatException($"{multi.Source} has a \"labels\" list; adapter evaluation scores single-label classifiers only.");
        var ids = labels.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => x.i, StringComparer.Ordinal);
        var tokenizer = BertTokenizer.FromFile(encoder.VocabPath, encoder.Manifest.Tokenizer);
        var examples = rows.Select(r => new TokenizedExample(
            tokenizer.Encode(r.Text, maxLength).Ids,
            ids.TryGetValue(r.Label, out var id) ? id : throw new DatasetFormatException($"{r.Source}: label '{r.Label}' is not one of {adapterDirectory}'s labels ({string.Join(", ", labels)})."))).ToArray();
        var pooling = DerivedAdapterRecord.Pooling(adapterDirectory) == "mean" ? Pooling.Mean : Pooling.Pooler;
        using var model = encoder.CreateClassifier(labels.Count, pooling);
        AdapterLoader.Apply(model, adapterDirectory);
        var predicted = Evaluator.Predict(model, examples, batchSize, tokenizer.PadId, torch.CPU);
        return ClassificationMetrics.Compute(labels, [.. examples.Select(e => e.Label)], predicted);
    }
}
