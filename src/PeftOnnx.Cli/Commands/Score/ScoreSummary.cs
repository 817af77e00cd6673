using PeftOnnx.Hosting.Pipeline;
using Spectre.Console;

namespace PeftOnnx.Cli.Commands.Score;

/// <summary>The counts of a scoring run as the table `score` and `demo` print on stderr when it ends.</summary>
internal static class ScoreSummary
{
    public static Table ToTable(FolderScoringSummary s)
    {
        var table = new Table().AddColumns("summary", "value");
        table.AddRow("files", $"{s.FilesDone} of {s.TotalFiles}");
        table.AddRow("scored", $"{s.Scored} ({s.DocumentsPerSecond:F1} docs/s, {s.Elapsed.TotalSeconds:F1} s)");
        table.AddRow("already in the output (resumed)", s.AlreadyDone.ToString());
        table.AddRow("skipped", s.Skipped == 0 ? "0" : Markup.Escape($"{s.Skipped} ({string.Join(", ", s.SkippedPerReason.Select(r => $"{r.Key} {r.Value}"))})"));
        if (s.ScoredPerLabel.Count > 0)
            table.AddRow("labels", Markup.Escape(string.Join(", ", s.ScoredPerLabel.Select(l => $"{l.Key} {l.Value}"))));
        return table;
    }

    /// <summary>
    /// `score --summary`: how many scored documents got each label and their share of the scored documents (multi-label
    /// shares add up to more than 100%), most frequent first.
    /// </summary>
    public static string Distribution(FolderScoringSummary s)
    {
        var text = new System.Text.StringBuilder();
        var width = Math.Max(5, s.ScoredPerLabel.Keys.Select(k => k.Length).DefaultIfEmpty(0).Max());
        text.AppendLine(FormattableString.Invariant($"{"label".PadRight(width)}  {"documents",9}  {"share",7}"));
        foreach (var (label, count) in s.ScoredPerLabel.OrderByDescending(l => l.Value).ThenBy(l => l.Key, StringComparer.Ordinal))
            text.AppendLine(FormattableString.Invariant($"{label.PadRight(width)}  {count,9}  {(double)count / Math.Max(1, s.Scored),7:P1}"));
        text.AppendLine(FormattableString.Invariant($"{"scored".PadRight(width)}  {s.Scored,9}"));
        return text.ToString();
    }
}
