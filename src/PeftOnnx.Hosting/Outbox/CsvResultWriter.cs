using System.Globalization;
using System.Text;

namespace PeftOnnx.Hosting.Outbox;

/// <summary>
/// Writes records as CSV, the columns of the JSON record: doc_id, content_hash, path, model_id, status, reason, label,
/// score, labels (a multi-label model's chosen labels, ';'-separated; empty otherwise), chunks, tokens, scored_at, then
/// one p_&lt;label&gt; column per label (embeddings stay JSON-only). A parallel bundle's tasks follow, each as
/// &lt;task&gt;.label, &lt;task&gt;.score, &lt;task&gt;.labels and one p_&lt;task&gt;.&lt;label&gt; column per label: one row per document. Appends with an fsync per batch; a torn last line or a failed append is cut off, as for JSONL
/// (<see cref="LineFile"/>).
/// </summary>
public sealed class CsvResultWriter : IResultWriter
{
    private readonly LineFile _file;
    private readonly IReadOnlyList<string> _labels;
    private readonly IReadOnlyList<Runtime.Scoring.ScoredTask> _tasks;

    public string FilePath { get; }

    public CsvResultWriter(string filePath, IReadOnlyList<string>? labels, bool truncate = false, IReadOnlyList<Runtime.Scoring.ScoredTask>? tasks = null)
    {
        FilePath = Path.GetFullPath(filePath);
        _labels = labels ?? [];
        _tasks = tasks ?? [];
        _file = new LineFile(FilePath, truncate);
        if (_file.Length == 0)
        {
            var header = "doc_id,content_hash,path,model_id,status,reason,label,score,labels,chunks,tokens,scored_at" + string.Concat(_labels.Select(l => "," + Escape("p_" + l)))
                + string.Concat(_tasks.Select(t => $",{Escape(t.Name + ".label")},{Escape(t.Name + ".score")},{Escape(t.Name + ".labels")}" + string.Concat(t.Labels.Select(l => "," + Escape($"p_{t.Name}.{l}"))))) + "\n";
            _file.Append(Encoding.UTF8.GetBytes(header));
        }
    }

    public IReadOnlyList<string> Write(IReadOnlyList<ResultRecord> records)
    {
        var text = new StringBuilder();
        foreach (var r in records)
        {
            text.Append(Escape(r.DocId)).Append(',').Append(r.ContentHash).Append(',').Append(Escape(r.Path)).Append(',')
                .Append(Escape(r.ModelId)).Append(',').Append(StatusText(r.Status)).Append(',').Append(Escape(r.Reason ?? "")).Append(',')
                .Append(Escape(r.Label ?? "")).Append(',')
                .Append(r.Score?.ToString("R", CultureInfo.InvariantCulture) ?? "").Append(',')
                .Append(Escape(r.Labels is null ? "" : string.Join(';', r.Labels.Select(l => l.Label)))).Append(',')
                .Append(r.Chunks).Append(',').Append(r.Tokens).Append(',')
                .Append(r.ScoredAt.ToString("O", CultureInfo.InvariantCulture));
            foreach (var label in _labels)
            {
                text.Append(',');
                if (r.Probabilities is not null && r.Probabilities.TryGetValue(label, out var p))
                    text.Append(p.ToString("R", CultureInfo.InvariantCulture));
            }
            foreach (var task in _tasks)
                AppendTask(text, task, r.Tasks?.GetValueOrDefault(task.Name));
            text.Append('\n');
        }
        _file.Append(Encoding.UTF8.GetBytes(text.ToString()));
        return Enumerable.Repeat(FilePath, records.Count).ToArray();
    }

    /// <summary>One task's columns; empty for a document that was not scored.</summary>
    private static void AppendTask(StringBuilder text, Runtime.Scoring.ScoredTask task, TaskResult? result)
    {
        text.Append(',').Append(Escape(result?.Label ?? "")).Append(',')
            .Append(result?.Score.ToString("R", CultureInfo.InvariantCulture) ?? "").Append(',')
            .Append(Escape(result?.Labels is null ? "" : string.Join(';', result.Labels.Select(l => l.Label))));
        foreach (var label in task.Labels)
        {
            text.Append(',');
            if (result is not null && result.Probabilities.TryGetValue(label, out var p))
                text.Append(p.ToString("R", CultureInfo.InvariantCulture));
        }
    }

    public IReadOnlyDictionary<ResultKey, string> FindExisting(IReadOnlyCollection<ResultKey> candidates)
    {
        var found = new Dictionary<ResultKey, string>();
        if (candidates.Count == 0)
            return found;
        var wanted = candidates.ToHashSet();
        foreach (var key in ReadKeys(FilePath))
        {
            if (wanted.Contains(key))
                found[key] = FilePath;
        }
        return found;
    }

    /// <summary>The keys of every whole record in a CSV results file, in order (skipped documents have an empty hash).</summary>
    public static IEnumerable<ResultKey> ReadKeys(string filePath)
    {
        if (!File.Exists(filePath))
            yield break;
        using var stream = new FileStream(filePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        reader.ReadLine();
        while (reader.ReadLine() is { } line)
        {
            var (docId, rest) = ReadField(line, 0);
            var (hash, _) = ReadField(line, rest);
            yield return new ResultKey(docId, hash);
        }
    }

    private static string StatusText(ResultStatus status) => status switch
    {
        ResultStatus.Scored => "scored",
        ResultStatus.Skipped => "skipped",
        _ => "failed",
    };

    public void Dispose() => _file.Dispose();

    private static string Escape(string field) =>
        field.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? "\"" + field.Replace("\"", "\"\"") + "\"" : field;

    /// <summary>Reads the CSV field starting at <paramref name="start"/>; returns it and the start of the next one.</summary>
    private static (string Field, int Next) ReadField(string line, int start)
    {
        if (start >= line.Length)
            return ("", line.Length);
        if (line[start] != '"')
        {
            var comma = line.IndexOf(',', start);
            return comma < 0 ? (line[start..], line.Length) : (line[start..comma], comma + 1);
        }
        var field = new StringBuilder();
        var i = start + 1;
        while (i < line.Length)
        {
            if (line[i] == '"' && i + 1 < line.Length && line[i + 1] == '"')
            {
                field.Append('"');
                i += 2;
            }
            else if (line[i] == '"')
            {
                return (field.ToString(), i + 2);
            }
            else
            {
                field.Append(line[i++]);
            }
        }
        return (field.ToString(), line.Length);
    }
}
