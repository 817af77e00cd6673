using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Models;
using PeftOnnx.Core.Numerics;
using PeftOnnx.Onnx.Passes;

namespace PeftOnnx.Onnx.Side;

/// <summary>The classifier of a SEQ_CLS adapter (modules_to_save, or a prompt-learning classifier), pooled like BertForSequenceClassification.</summary>
public static class SideHead
{
    public static ClassificationHead? Read(PeftAdapter adapter, IReadOnlyList<string>? labels, ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        ArgumentNullException.ThrowIfNull(manifest);
        var weight = adapter.Tensors.FirstOrDefault(t => !t.Key.InEncoder && t.Key.Module == "classifier" && t.Key.Parameter == "weight");
        if (weight is null)
        {
            if (labels is not null)
                throw new InvalidDataException($"--labels was given but {adapter.Directory} has no classifier; a feature-extraction adapter has no labels.");
            return null;
        }
        if (weight.Shape.Length != 2)
            throw new InvalidDataException($"{weight.Name} has shape {weight.ShapeText}; a classifier weight is [labels, hidden].");
        var matrix = weight.AsMatrix();
        var bias = adapter.Tensors.FirstOrDefault(t => !t.Key.InEncoder && t.Key.Module == "classifier" && t.Key.Parameter == "bias")?.Data ?? new double[matrix.Rows];
        if (labels is not null && labels.Count != matrix.Rows)
            throw new ArgumentException($"--labels names {labels.Count} labels but the classifier {weight.Name} {matrix.Shape} has {matrix.Rows} outputs.");
        if (!manifest.Outputs.ContainsKey("pooler_output"))
            throw new InvalidDataException($"{manifest.Name} has no pooler output; side-graph classifiers read tanh(pooler.dense(h[:,0])) as BertForSequenceClassification does.");
        labels ??= [.. Enumerable.Range(0, matrix.Rows).Select(i => $"label_{i}")];
        return new ClassificationHead(new Matrix64(matrix.Rows, matrix.Cols, matrix.Data), bias, labels, HeadPooling.Pooler);
    }
}
