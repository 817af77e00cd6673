using System.Text.Json;

namespace PeftOnnx.Hosting.Outbox;

/// <summary>
/// Writes records as JSON lines to a text stream (`peftonnx score` without --output: stdout), flushed after each
/// batch. A stream keeps nothing to look up, so nothing is found existing: a resumable run needs a file.
/// </summary>
public sealed class ConsoleResultWriter(TextWriter output) : IResultWriter
{
    public IReadOnlyList<string> Write(IReadOnlyList<ResultRecord> records)
    {
        foreach (var record in records)
            output.Write(JsonSerializer.Serialize(record, ResultJson.Record) + "\n");
        output.Flush();
        return Enumerable.Repeat("stdout", records.Count).ToArray();
    }

    public IReadOnlyDictionary<ResultKey, string> FindExisting(IReadOnlyCollection<ResultKey> candidates) => new Dictionary<ResultKey, string>();

    /// <summary>The stream belongs to the caller.</summary>
    public void Dispose()
    {
    }
}
