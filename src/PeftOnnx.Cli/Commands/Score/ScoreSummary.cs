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
}
