using System.Text.Json;
using PeftOnnx.Core.Json;

namespace PeftOnnx.Training.TrainingLoop;

/// <summary>metrics.jsonl: one JSON object per line (step losses and epoch summaries), appended and flushed as training goes.</summary>
public sealed class MetricsLog : IDisposable
{
    private static readonly JsonSerializerOptions Compact = new(PeftJson.Options) { WriteIndented = false };
    private readonly StreamWriter _writer;

    public MetricsLog(string path, bool append)
    {
        Path = path;
        _writer = new StreamWriter(path, append) { AutoFlush = true };
    }

    public string Path { get; }

    public void Write<T>(T entry) => _writer.WriteLine(JsonSerializer.Serialize(entry, Compact));

    public static (List<StepLog> Steps, List<EpochSummary> Epochs) Read(string path)
    {
        var steps = new List<StepLog>();
        var epochs = new List<EpochSummary>();
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line))
                continue;
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.GetProperty("kind").GetString() == "epoch")
                epochs.Add(doc.RootElement.Deserialize<EpochSummary>(PeftJson.Options)!);
            else
                steps.Add(doc.RootElement.Deserialize<StepLog>(PeftJson.Options)!);
        }
        return (steps, epochs);
    }

    public void Dispose() => _writer.Dispose();
}
