using PeftOnnx.Hosting.Outbox;
using Spectre.Console;

namespace PeftOnnx.Cli.Commands.Demo;

/// <summary>
/// The demo's result sink: one table row per record (document, label, score, the label the sample should get, chunks),
/// skipped documents with their reason.
/// </summary>
internal sealed class DemoTableSink(string samplesDir, IReadOnlyDictionary<string, string> expected) : IResultWriter
{
    public Table Table { get; } = new Table().AddColumns("document", "label", "score", "expected", "chunks");

    public IReadOnlyList<string> Write(IReadOnlyList<ResultRecord> records)
    {
        foreach (var r in records)
        {
            var relative = Path.GetRelativePath(samplesDir, r.Path);
            if (r.Status != ResultStatus.Scored)
            {
                Table.AddRow(Markup.Escape(relative), $"[grey]{r.Status.ToString().ToLowerInvariant()}[/]", "", Markup.Escape(r.Reason ?? ""), "");
                continue;
            }
            var want = expected.GetValueOrDefault(relative.Replace('\\', '/'), "");
            var mark = want.Length == 0 ? "" : want == r.Label ? " ✓" : " ✗";
            Table.AddRow(Markup.Escape(relative), Markup.Escape(r.Label ?? ""), $"{r.Score:F2}", Markup.Escape(want + mark), r.Chunks.ToString());
        }
        return Enumerable.Repeat("table", records.Count).ToArray();
    }

    public IReadOnlyDictionary<ResultKey, string> FindExisting(IReadOnlyCollection<ResultKey> candidates) => new Dictionary<ResultKey, string>();

    public void Dispose()
    {
    }
}
