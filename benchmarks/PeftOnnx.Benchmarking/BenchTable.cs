using System.Globalization;
using System.Text;

namespace PeftOnnx.Benchmarking;

/// <summary>A markdown table with the machine, the settings and the command that produced it.</summary>
public sealed class BenchTable(string title, IReadOnlyList<string> columns)
{
    private readonly List<string[]> _rows = [];

    public string Title { get; } = title;

    public void AddRow(params string[] cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Length != columns.Count)
            throw new ArgumentException($"A row needs {columns.Count} cells ({string.Join(", ", columns)}), got {cells.Length}.", nameof(cells));
        _rows.Add(cells);
    }

    public static string Number(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>The table as markdown, preceded by the command line and every machine and settings line.</summary>
    public string ToMarkdown(string commandLine, IEnumerable<string> notes)
    {
        ArgumentNullException.ThrowIfNull(notes);
        var text = new StringBuilder();
        text.Append("### ").AppendLine(Title).AppendLine();
        text.Append("Command: `").Append(commandLine).AppendLine("`").AppendLine();
        foreach (var note in notes)
            text.Append("- ").AppendLine(note);
        text.AppendLine();
        text.Append("| ").AppendJoin(" | ", columns).AppendLine(" |");
        text.Append('|').AppendJoin("", columns.Select(_ => " --- |")).AppendLine();
        foreach (var row in _rows)
            text.Append("| ").AppendJoin(" | ", row).AppendLine(" |");
        return text.ToString();
    }

    /// <summary>
    /// Replaces the block between <c>&lt;!-- bench:{section} --&gt;</c> and <c>&lt;!-- /bench:{section} --&gt;</c> in
    /// <paramref name="path"/> (appending the block when the file lacks it), writing through a temp file.
    /// </summary>
    public static void UpdateMarkdownSection(string path, string section, string markdown)
    {
        ArgumentNullException.ThrowIfNull(path);
        var begin = $"<!-- bench:{section} -->";
        var end = $"<!-- /bench:{section} -->";
        var block = $"{begin}\n{markdown.TrimEnd()}\n{end}";
        var existing = File.Exists(path) ? File.ReadAllText(path) : "";
        var start = existing.IndexOf(begin, StringComparison.Ordinal);
        var stop = start < 0 ? -1 : existing.IndexOf(end, start, StringComparison.Ordinal);
        string updated;
        if (start >= 0 && stop > start)
            updated = existing[..start] + block + existing[(stop + end.Length)..];
        else
            updated = existing.TrimEnd() + (existing.Length > 0 ? "\n\n" : "") + block + "\n";
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, updated);
        File.Move(tmp, path, overwrite: true);
    }
}
