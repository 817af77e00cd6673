using System.Diagnostics;
using Spectre.Console;

namespace PeftOnnx.Cli.Commands.Score;

/// <summary>Counts of a scoring run, shown as a table on stderr when it ends.</summary>
internal sealed class ScoreSummary
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly SortedDictionary<string, int> _labels = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, int> _skipReasons = new(StringComparer.Ordinal);

    public int Scored { get; private set; }

    public int Skipped { get; private set; }

    public long Tokens { get; private set; }

    public long Windows { get; private set; }

    public void AddScored(string? label, int chunks, int tokens)
    {
        Scored++;
        Windows += chunks;
        Tokens += tokens;
        if (label is not null)
            _labels[label] = _labels.GetValueOrDefault(label) + 1;
    }

    public void AddSkipped(string reason)
    {
        Skipped++;
        // Group "binary (NUL byte at offset 12)" and "binary (NUL byte at offset 80)" together.
        var kind = reason.Split([' ', ':', '('], 2)[0];
        _skipReasons[kind] = _skipReasons.GetValueOrDefault(kind) + 1;
    }

    public Table ToTable()
    {
        var seconds = _clock.Elapsed.TotalSeconds;
        var table = new Table().AddColumns("summary", "value");
        table.AddRow("documents", (Scored + Skipped).ToString());
        table.AddRow("scored", Scored.ToString());
        table.AddRow("skipped", Skipped == 0 ? "0" : $"{Skipped} ({string.Join(", ", _skipReasons.Select(r => $"{r.Key} {r.Value}"))})");
        table.AddRow("windows / tokens", $"{Windows} / {Tokens}");
        table.AddRow("time", $"{seconds:F2} s ({(seconds > 0 ? Scored / seconds : 0):F1} docs/s, {(seconds > 0 ? Tokens / seconds : 0):F0} tokens/s)");
        if (_labels.Count > 0)
            table.AddRow("labels", Markup.Escape(string.Join(", ", _labels.Select(l => $"{l.Key} {l.Value}"))));
        return table;
    }
}
