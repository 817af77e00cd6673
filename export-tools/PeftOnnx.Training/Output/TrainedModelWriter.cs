using System.Text.Json.Nodes;
using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.IO;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.SafeTensors;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Methods;
using PeftOnnx.Training.TrainingLoop;

namespace PeftOnnx.Training.Output;

/// <summary>
/// Writes the result of a run into one folder, atomically (<see cref="AtomicFolder"/>):
/// PEFT methods as a PEFT adapter (adapter_config.json + adapter_model.safetensors with PEFT's key names),
/// baselines (probe, full) as a transformers BertForSequenceClassification folder (config.json + model.safetensors);
/// plus training.json, metrics.jsonl and training_curve.png.
/// </summary>
public static class TrainedModelWriter
{
    public static void Write(string directory, BertForSequenceClassification model, PeftMethod method, TrainingReport report, string? metricsPath, string? curvePath, bool overwrite)
    {
        AtomicFolder.Write(directory, overwrite, "--overwrite", tmp =>
        {
            var config = method.AdapterConfig(model.Bert.Config);
            if (config is not null)
            {
                var tensors = model.named_parameters()
                    .Where(p => p.parameter.requires_grad)
                    .Select(p => SafeTensor.FromFloat32(method.AdapterKey(p.name), TrainerCheckpoint.ToArray(p.parameter), p.parameter.shape))
                    .ToList();
                PeftAdapterWriter.WriteInto(tmp, config with { BaseModelNameOrPath = report.BaseModelNameOrPath }, tensors);
                method.WriteFolder(tmp);
            }
            else
            {
                var tensors = model.named_parameters()
                    .Select(p => SafeTensor.FromFloat32(p.name, TrainerCheckpoint.ToArray(p.parameter), p.parameter.shape))
                    .ToList();
                SafeTensorWriter.Write(Path.Combine(tmp, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
                File.WriteAllText(Path.Combine(tmp, "config.json"), TransformersConfig(model.Bert.Config, report.Labels, report.ProblemType).ToJsonString(PeftJson.Options));
            }
            PeftJson.Save(Path.Combine(tmp, TrainingReport.FileName), report);
            if (metricsPath is not null && File.Exists(metricsPath))
                File.Copy(metricsPath, Path.Combine(tmp, "metrics.jsonl"));
            if (curvePath is not null && File.Exists(curvePath))
                File.Copy(curvePath, Path.Combine(tmp, "training_curve.png"));
        });
    }

    /// <summary>transformers' config.json for BertForSequenceClassification, so from_pretrained loads the folder.</summary>
    private static JsonObject TransformersConfig(BertConfig c, IReadOnlyList<string> labels, string? problemType)
    {
        var id2label = new JsonObject();
        var label2id = new JsonObject();
        for (var i = 0; i < labels.Count; i++)
        {
            id2label[i.ToString()] = labels[i];
            label2id[labels[i]] = i;
        }
        return new JsonObject
        {
            ["architectures"] = new JsonArray("BertForSequenceClassification"),
            ["model_type"] = "bert",
            ["vocab_size"] = c.VocabSize,
            ["hidden_size"] = c.HiddenSize,
            ["num_hidden_layers"] = c.NumHiddenLayers,
            ["num_attention_heads"] = c.NumAttentionHeads,
            ["intermediate_size"] = c.IntermediateSize,
            ["hidden_act"] = "gelu",
            ["max_position_embeddings"] = c.MaxPositionEmbeddings,
            ["type_vocab_size"] = c.TypeVocabSize,
            ["layer_norm_eps"] = c.LayerNormEps,
            ["hidden_dropout_prob"] = c.HiddenDropoutProb,
            ["attention_probs_dropout_prob"] = c.AttentionProbsDropoutProb,
            ["id2label"] = id2label,
            ["label2id"] = label2id,
            ["problem_type"] = problemType ?? "single_label_classification",
        };
    }
}
