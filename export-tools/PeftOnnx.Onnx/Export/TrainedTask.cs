using System.Text.Json;
using PeftOnnx.Core.Bundles;

namespace PeftOnnx.Onnx.Export;

/// <summary>
/// The classification problem an adapter folder was trained for: training.json's problem_type and thresholds
/// (written by <c>peftonnx-export train --multi-label</c>), or a transformers config.json's problem_type. Single-label
/// (softmax) when neither says otherwise.
/// </summary>
public sealed record TrainedTask(string? ProblemType, IReadOnlyList<float>? Thresholds)
{
    public static readonly TrainedTask SingleLabel = new(null, null);

    public bool IsMultiLabel => ProblemType == BundleManifest.MultiLabelProblem;

    public static TrainedTask Read(string adapterDirectory)
    {
        var training = Path.Combine(adapterDirectory, "training.json");
        if (File.Exists(training))
        {
            using var doc = Parse(training);
            var root = doc.RootElement;
            var problem = root.TryGetProperty("problem_type", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
            float[]? thresholds = null;
            if (root.TryGetProperty("thresholds", out var t) && t.ValueKind == JsonValueKind.Array)
                thresholds = [.. t.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Number ? v.GetSingle() : throw new InvalidDataException($"{training}: a threshold is {v.GetRawText()}, not a number."))];
            return new TrainedTask(problem, thresholds);
        }
        var config = Path.Combine(adapterDirectory, "config.json");
        if (File.Exists(config))
        {
            using var doc = Parse(config);
            if (doc.RootElement.TryGetProperty("problem_type", out var p) && p.ValueKind == JsonValueKind.String && p.GetString() == BundleManifest.MultiLabelProblem)
                return new TrainedTask(BundleManifest.MultiLabelProblem, null);
        }
        return SingleLabel;
    }

    private static JsonDocument Parse(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e);
        }
    }
}
