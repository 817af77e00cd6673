using System.Text.Json;
using PeftOnnx.Core.Models;

namespace PeftOnnx.Core.Adapters;

/// <summary>
/// Refuses an adapter made for another base model. What the adapter folder records decides: the model.onnx sha256 in
/// the trainer's training.json, else base_model_name_or_path in adapter_config.json (as PEFT writes it); an adapter
/// that records neither cannot be checked and passes. Shapes are checked later by every merge and side pass.
/// </summary>
public static class AdapterBaseCheck
{
    /// <summary>The command-line override, named in the error.</summary>
    public const string OverrideFlag = "--allow-base-mismatch";

    private const string TrainingFile = "training.json";

    /// <summary>
    /// Throws <see cref="InvalidDataException"/> naming both bases, or with <paramref name="allowMismatch"/> adds the
    /// same text to <paramref name="warnings"/>.
    /// </summary>
    /// <param name="adapterDirectory">The adapter (or fine-tuned model) folder; its training.json is read when present.</param>
    /// <param name="baseModelNameOrPath">adapter_config.json's base_model_name_or_path, or null.</param>
    /// <param name="target">The base it is about to be merged into or served with.</param>
    /// <param name="allowMismatch">The override: a mismatch becomes a warning.</param>
    /// <param name="warnings">Where the overridden mismatch is reported.</param>
    public static void Require(string adapterDirectory, string? baseModelNameOrPath, BaseModelIdentity target, bool allowMismatch, ICollection<string> warnings)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(warnings);
        var mismatch = Mismatch(adapterDirectory, baseModelNameOrPath, target);
        if (mismatch is null)
            return;
        if (allowMismatch)
        {
            warnings.Add($"{mismatch}; exported anyway ({OverrideFlag}).");
            return;
        }
        throw new InvalidDataException(
            $"{mismatch}. An adapter scores wrong on another base even when the shapes fit: use the base it was trained on, " +
            $"or pass {OverrideFlag} if you know the weights are the same.");
    }

    /// <summary>
    /// Throws naming two of <paramref name="adapters"/> that record different bases (the model.onnx sha256 of their
    /// training.json, else base_model_name_or_path): adapters combined into one model (a fusion) must share their base.
    /// </summary>
    public static void RequireSameBase(IReadOnlyList<(string Directory, string? BaseModelNameOrPath)> adapters)
    {
        ArgumentNullException.ThrowIfNull(adapters);
        var bases = adapters.Select(a => (a.Directory, a.BaseModelNameOrPath, Trained: ReadTrainingBase(Path.Combine(a.Directory, TrainingFile)))).ToList();
        foreach (var (first, second) in bases.SelectMany((a, i) => bases.Skip(i + 1).Select(b => (a, b))))
        {
            var (sha1, sha2) = (first.Trained.Sha256, second.Trained.Sha256);
            if (sha1 is not null && sha2 is not null)
            {
                if (!string.Equals(sha1, sha2, StringComparison.OrdinalIgnoreCase))
                    throw new InvalidDataException($"{first.Directory} was trained on {first.Trained.Name} (model.onnx sha256 {sha1[..Math.Min(12, sha1.Length)]}…) but {second.Directory} on {second.Trained.Name} (sha256 {sha2[..Math.Min(12, sha2.Length)]}…); adapters combined into one model must share their base.");
                continue;
            }
            if (first.BaseModelNameOrPath is { } name1 && second.BaseModelNameOrPath is { } name2 && !string.Equals(name1, name2, StringComparison.Ordinal))
                throw new InvalidDataException($"{first.Directory} was made for \"{name1}\" but {second.Directory} for \"{name2}\" (base_model_name_or_path); adapters combined into one model must share their base.");
        }
    }

    /// <summary>Why the adapter does not fit <paramref name="target"/> ("… was trained on … but the base is …"), or null when it fits or records no base.</summary>
    public static string? Mismatch(string adapterDirectory, string? baseModelNameOrPath, BaseModelIdentity target)
    {
        var (trainedOn, trainedSha256) = ReadTrainingBase(Path.Combine(adapterDirectory, TrainingFile));
        if (trainedSha256 is not null && target.Sha256 is not null)
        {
            return string.Equals(trainedSha256, target.Sha256, StringComparison.OrdinalIgnoreCase)
                ? null
                : $"{adapterDirectory} was trained on {trainedOn ?? "another base"} (model.onnx sha256 {trainedSha256[..Math.Min(12, trainedSha256.Length)]}…, {TrainingFile}) but the base is {target}";
        }
        if (string.IsNullOrWhiteSpace(baseModelNameOrPath) || target.IsNamedBy(baseModelNameOrPath))
            return null;
        return $"{adapterDirectory} was made for \"{baseModelNameOrPath}\" (base_model_name_or_path in {PeftAdapterConfig.FileName}) but the base is {target}";
    }

    /// <summary>base_model and base_model_sha256 of the trainer's training.json; nulls when the file or a field is absent.</summary>
    private static (string? Name, string? Sha256) ReadTrainingBase(string path)
    {
        if (!File.Exists(path))
            return (null, null);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path} must hold a JSON object.");
            return (Text(doc.RootElement, "base_model"), Text(doc.RootElement, "base_model_sha256"));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid JSON ({e.Message}); fix or remove it.", e);
        }
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
