using System.Text.Json.Nodes;
using PeftOnnx.Core.Json;
using PeftOnnx.Training.Output;

namespace PeftOnnx.Training.Arithmetic;

/// <summary>
/// training.json of a computed adapter: what the exporter and the evaluators read from it (the base's name and sha256,
/// which the base check compares; the labels in logit order, pooling, problem type and thresholds of the classifier it
/// carries, copied from the folder that classifier came from) and how it was made ("method" and "derived_from").
/// Metrics of the source runs are not copied: they do not describe the result.
/// </summary>
public static class DerivedAdapterRecord
{
    private static readonly string[] TaskFields = ["labels", "problem_type", "thresholds", "pooling", "max_length"];

    /// <param name="taskSource">The folder whose classifier the result carries (its training.json supplies the task fields), or null.</param>
    /// <param name="provenance">What was combined, with which options.</param>
    public static JsonObject Create(string baseName, string baseSha256, string? baseNameOrPath, string method, string? taskSource, JsonObject provenance)
    {
        ArgumentNullException.ThrowIfNull(provenance);
        var record = new JsonObject
        {
            ["base_model"] = baseName,
            ["base_model_sha256"] = baseSha256,
            ["base_model_name_or_path"] = baseNameOrPath,
            ["method"] = method,
        };
        if (taskSource is not null && Read(Path.Combine(taskSource, TrainingReport.FileName)) is { } source)
        {
            foreach (var field in TaskFields.Where(source.ContainsKey))
                record[field] = source[field]!.DeepClone();
        }
        record["derived_from"] = provenance;
        return record;
    }

    public static void Save(string folder, JsonObject record) =>
        File.WriteAllText(Path.Combine(folder, TrainingReport.FileName), record.ToJsonString(PeftJson.Options));

    /// <summary>The labels in logit order that training.json records, or null.</summary>
    public static IReadOnlyList<string>? Labels(string folder) =>
        Read(Path.Combine(folder, TrainingReport.FileName))?["labels"] is JsonArray labels
            ? [.. labels.Select(l => l?.GetValue<string>() ?? throw new InvalidDataException($"{Path.Combine(folder, TrainingReport.FileName)}: a label is null."))]
            : null;

    /// <summary>The classifier's pooling that training.json records ("pooler" or "mean"), or null.</summary>
    public static string? Pooling(string folder) =>
        Read(Path.Combine(folder, TrainingReport.FileName))?["pooling"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static JsonObject? Read(string path)
    {
        if (!File.Exists(path))
            return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path} must hold a JSON object.");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid JSON ({e.Message}); fix or remove it.", e);
        }
    }
}
