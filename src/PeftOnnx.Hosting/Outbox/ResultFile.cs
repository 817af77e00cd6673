using System.Security.Cryptography;

namespace PeftOnnx.Hosting.Outbox;

/// <summary>
/// The results file of a `peftonnx score` run, JSONL or CSV. A fresh run writes a hidden temp file beside the output and
/// renames it over the output at <see cref="Commit"/> (when the run ends, finished or interrupted), so an existing output
/// is replaced whole, never left half-written. A resumed run appends to the output in place and knows the records it
/// already holds (<see cref="Written"/>), so no document is written twice.
/// </summary>
public sealed class ResultFile : IDisposable
{
    private readonly string? _temp;
    private bool _committed;

    private ResultFile(string output, string? temp, IResultWriter writer, IReadOnlyCollection<ResultKey> written)
    {
        Output = output;
        _temp = temp;
        Writer = writer;
        Written = written;
    }

    /// <summary>The results file (full path).</summary>
    public string Output { get; }

    public IResultWriter Writer { get; }

    /// <summary>Keys of the records already in the output when a resumed run started (empty for a fresh run).</summary>
    public IReadOnlyCollection<ResultKey> Written { get; }

    /// <summary>Opens the results file; with a parallel bundle's <c>tasks</c> the CSV also has each task's label, score, chosen labels and probabilities.</summary>
    public static ResultFile Open(string output, OutboxFormat format, IReadOnlyList<string>? labels, bool resume, IReadOnlyList<Runtime.Scoring.ScoredTask>? tasks = null)
    {
        if (format == OutboxFormat.JsonFiles)
            throw new ArgumentException("a results file is JSONL or CSV; JsonFiles is the worker's outbox layout.", nameof(format));
        output = Path.GetFullPath(output);
        if (resume)
        {
            IReadOnlyCollection<ResultKey> written = [.. format == OutboxFormat.Csv ? CsvResultWriter.ReadKeys(output) : JsonlResultWriter.ReadKeys(output)];
            return new ResultFile(output, null, CreateWriter(output, format, labels, tasks, truncate: false), written);
        }
        var temp = Path.Combine(Path.GetDirectoryName(output)!, $".{Path.GetFileName(output)}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}.tmp");
        return new ResultFile(output, temp, CreateWriter(temp, format, labels, tasks, truncate: true), []);
    }

    /// <summary>Makes what was written the output (a fresh run's temp file replaces it); the writer is closed.</summary>
    public void Commit()
    {
        Writer.Dispose();
        if (_temp is not null)
            File.Move(_temp, Output, overwrite: true);
        _committed = true;
    }

    /// <summary>Closes the writer; a fresh run that was not committed leaves no file behind.</summary>
    public void Dispose()
    {
        Writer.Dispose();
        if (!_committed && _temp is not null)
            File.Delete(_temp);
    }

    private static IResultWriter CreateWriter(string path, OutboxFormat format, IReadOnlyList<string>? labels, IReadOnlyList<Runtime.Scoring.ScoredTask>? tasks, bool truncate) =>
        format == OutboxFormat.Csv ? new CsvResultWriter(path, labels, truncate, tasks) : new JsonlResultWriter(path, truncate);
}
