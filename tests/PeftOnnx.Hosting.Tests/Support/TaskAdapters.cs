using System.Text.Json;
using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Lora;
using PeftOnnx.Core.SafeTensors;

namespace PeftOnnx.Hosting.Tests.Support;

/// <summary>
/// Task adapters for parallel-bundle tests, made here with a fixed seed: PEFT's SEQ_CLS LoRA layout (r = 4,
/// lora_alpha = 8, query and value of layers 4 and 5 only, layers_to_transform [4, 5]), lora_A and lora_B uniform in
/// [-0.1, 0.1), a classifier (modules_to_save) uniform in [-0.5, 0.5) with the task's labels in training.json. The
/// labels are the real tasks' (debian-sections, and the debtags tasks debian-interface and debian-implemented-in).
/// </summary>
internal static class TaskAdapters
{
    public static readonly IReadOnlyDictionary<string, string[]> Labels = new Dictionary<string, string[]>
    {
        ["sections"] = ["admin", "database", "editors", "electronics", "games", "graphics", "mail", "math", "net", "science", "sound", "video"],
        ["interface"] = ["commandline", "daemon", "graphical", "text-mode"],
        ["implemented-in"] = ["c", "c++", "java", "lisp", "perl", "python"],
    };

    /// <summary>Writes the task's adapter folder under <paramref name="root"/> and returns it; without <paramref name="head"/> a feature-extraction adapter (no classifier).</summary>
    public static string Write(string root, string task, int seed, bool head = true, int hidden = 384)
    {
        var directory = Path.Combine(root, task);
        var rng = new Random(seed);
        var keys = new PeftKeys(head ? "SEQ_CLS" : null);
        var tensors = new List<SafeTensor>();
        const int r = 4;
        foreach (var module in new[] { 4, 5 }.SelectMany(l => new[] { $"encoder.layer.{l}.attention.self.query", $"encoder.layer.{l}.attention.self.value" }))
        {
            tensors.Add(SafeTensor.FromFloat32(keys.LoraA(module), Uniform(rng, r * hidden, 0.1), r, hidden));
            tensors.Add(SafeTensor.FromFloat32(keys.LoraB(module), Uniform(rng, hidden * r, 0.1), hidden, r));
        }
        var labels = Labels[task];
        if (head)
        {
            tensors.Add(SafeTensor.FromFloat32(PeftKeys.SavedModule("classifier", "weight"), Uniform(rng, labels.Length * hidden, 0.5), labels.Length, hidden));
            tensors.Add(SafeTensor.FromFloat32(PeftKeys.SavedModule("classifier", "bias"), Uniform(rng, labels.Length, 0.5), labels.Length));
        }
        PeftAdapterWriter.Write(directory, new LoraConfig
        {
            R = r,
            LoraAlpha = 8,
            TargetModules = TargetModules.FromNames("query", "value"),
            LayersToTransform = [4, 5],
            TaskType = head ? "SEQ_CLS" : null,
            ModulesToSave = head ? ["classifier"] : null,
        }, tensors);
        if (head)
            File.WriteAllText(Path.Combine(directory, "training.json"), JsonSerializer.Serialize(new { labels }));
        return directory;
    }

    private static float[] Uniform(Random rng, int count, double bound) =>
        [.. Enumerable.Range(0, count).Select(_ => (float)(((rng.NextDouble() * 2) - 1) * bound))];
}
