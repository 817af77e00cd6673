using System.Collections.Concurrent;
using System.Diagnostics;

namespace PeftOnnx.Hosting.Pipeline;

/// <summary>
/// Counts of a folder scoring run, updated live (progress) and complete at the end: documents scored per label (a
/// multi-label document counts once for each label it was given, or under <see cref="NoLabel"/> when none),
/// documents already scored by an earlier run, documents skipped grouped by reason.
/// </summary>
public sealed class FolderScoringSummary
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentDictionary<string, int> _labels = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _skipped = new(StringComparer.Ordinal);
    /// <summary>Where a multi-label document with no label above its threshold is counted.</summary>
    public const string NoLabel = "(no label)";

    private int _scored;
    private int _alreadyDone;
    private int _files;

    /// <summary>Files found by the walk (known before scoring starts, for the ETA).</summary>
    public int TotalFiles { get; internal set; }

    public int FilesDone => Volatile.Read(ref _files);

    public int Scored => Volatile.Read(ref _scored);

    public int AlreadyDone => Volatile.Read(ref _alreadyDone);

    public int Skipped => _skipped.Values.Sum();

    public IReadOnlyDictionary<string, int> ScoredPerLabel => new SortedDictionary<string, int>(_labels, StringComparer.Ordinal);

    /// <summary>Skipped documents grouped by the kind of reason ("binary", "not valid UTF-8", "too large", ...).</summary>
    public IReadOnlyDictionary<string, int> SkippedPerReason => new SortedDictionary<string, int>(_skipped, StringComparer.Ordinal);

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Documents scored per second of this run.</summary>
    public double DocumentsPerSecond => Scored / Math.Max(Elapsed.TotalSeconds, 1e-9);

    /// <summary>Remaining time at the current file rate; null until there is a rate.</summary>
    public TimeSpan? Eta => FilesDone == 0 || TotalFiles <= FilesDone ? null
        : TimeSpan.FromSeconds((TotalFiles - FilesDone) * Elapsed.TotalSeconds / FilesDone);

    /// <summary>True when the run was stopped before every file was settled (resume it with --resume).</summary>
    public bool Interrupted { get; internal set; }

    internal void Add(WorkOutcome outcome)
    {
        switch (outcome.Status)
        {
            case WorkStatus.Scored:
                Interlocked.Increment(ref _scored);
                foreach (var label in LabelsOf(outcome.Result))
                    _labels.AddOrUpdate(label, 1, (_, n) => n + 1);
                break;
            case WorkStatus.AlreadyDone when outcome.Existing?.Path == outcome.DocPath:
                Interlocked.Increment(ref _alreadyDone);
                break;
            case WorkStatus.AlreadyDone or WorkStatus.Duplicate:
                _skipped.AddOrUpdate("duplicate content", 1, (_, n) => n + 1);
                break;
            default:
                _skipped.AddOrUpdate(ReasonKind(outcome.Reason), 1, (_, n) => n + 1);
                break;
        }
    }

    /// <summary>The labels a document is counted under; a parallel bundle's document once per task, as "task: label".</summary>
    private static IEnumerable<string> LabelsOf(Outbox.ResultRecord? result) => result?.Tasks is { } tasks
        ? tasks.SelectMany(t => Chosen(t.Value.Labels, t.Value.Label).Select(label => $"{t.Key}: {label}"))
        : Chosen(result?.Labels, result?.Label ?? "(embedding)");

    private static IEnumerable<string> Chosen(IReadOnlyList<Outbox.LabelScore>? chosen, string single) => chosen switch
    {
        null => [single],
        { Count: 0 } => [NoLabel],
        _ => chosen.Select(l => l.Label),
    };

    internal void FileDone() => Interlocked.Increment(ref _files);

    /// <summary>"binary (NUL byte at offset 12)" and "binary (NUL byte at offset 80)" count as one reason.</summary>
    private static string ReasonKind(string? reason)
    {
        if (string.IsNullOrEmpty(reason))
            return "unknown";
        var end = reason.IndexOfAny(['(', ':', ';']);
        return (end > 0 ? reason[..end] : reason).Trim();
    }
}
