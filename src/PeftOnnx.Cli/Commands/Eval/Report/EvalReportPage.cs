using System.Globalization;
using System.Net;
using System.Text;
using PeftOnnx.Cli.Commands.Common;

namespace PeftOnnx.Cli.Commands.Eval.Report;

/// <summary>
/// `peftonnx eval --report report.html`: one self-contained HTML page (styles inline, the chart as a base64 PNG, a
/// Content-Security-Policy that forbids loading anything) with the summary metrics, the confusion matrix as a shaded
/// table, per-label precision/recall/F1 (multi-label: with each label's threshold), and the most confused label pairs
/// with example documents. Every text from the data or the model is HTML-escaped. The PNG is written beside it.
/// </summary>
internal static class EvalReportPage
{
    private const int ConfusedPairs = 8;
    private const int ExamplesPerPair = 3;
    private const int ExcerptCharacters = 300;

    /// <summary>Writes <paramref name="htmlPath"/> and the PNG beside it (same name, .png), each through a temporary file.</summary>
    public static string Write(string htmlPath, EvalOutcome outcome)
    {
        var full = Path.GetFullPath(htmlPath);
        var directory = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(directory))
            throw new UsageException($"--report {full}: folder {directory} does not exist.");
        var png = EvalChart.Png(outcome);
        var pngPath = Path.ChangeExtension(full, ".png");
        WriteAtomically(pngPath, png);
        WriteAtomically(full, Encoding.UTF8.GetBytes(Html(outcome, png)));
        return pngPath;
    }

    public static string Html(EvalOutcome outcome, byte[] png)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">")
            .Append("<title>").Append(E($"eval: {outcome.ModelId}")).Append("</title><style>")
            .Append("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}")
            .Append("td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f4f4f4}td.l,th.l{text-align:left}")
            .Append(".bar{display:inline-block;height:10px;background:#1f77b4;vertical-align:middle;margin-right:6px}")
            .Append("blockquote{margin:.4em 0 .8em 1em;padding:.3em .6em;border-left:3px solid #ccc;white-space:pre-wrap;font-size:90%}")
            .Append("</style></head><body>\n");
        html.Append("<h1>Evaluation report</h1>\n");
        Summary(html, outcome);
        html.Append("<h2>Charts</h2>\n<img id=\"chart\" alt=\"confusion matrix heatmap and per-label precision, recall and F1\" src=\"data:image/png;base64,")
            .Append(Convert.ToBase64String(png)).Append("\">\n");
        PerLabel(html, outcome);
        Confusion(html, outcome);
        Confused(html, outcome);
        html.Append("</body></html>\n");
        return html.ToString();
    }

    private static void Summary(StringBuilder html, EvalOutcome outcome)
    {
        var rows = new List<(string Name, string Value)>
        {
            ("model", outcome.ModelId),
            ("mode", outcome.Mode),
            ("examples", N(outcome.Examples.Count)),
        };
        if (outcome.Multi is { } m)
        {
            rows.Add(("subset accuracy", P(m.SubsetAccuracy)));
            rows.Add(("micro-F1", F(m.MicroF1)));
            rows.Add(("micro precision", F(m.MicroPrecision)));
            rows.Add(("micro recall", F(m.MicroRecall)));
            rows.Add(("macro-F1", F(m.MacroF1)));
        }
        else
        {
            rows.Add(("accuracy", P(outcome.Single!.Accuracy)));
            rows.Add(("macro-F1", F(outcome.Single.MacroF1)));
        }
        html.Append("<table id=\"summary\">");
        foreach (var (name, value) in rows)
            html.Append("<tr><th class=\"l\">").Append(E(name)).Append("</th><td class=\"l\">").Append(E(value)).Append("</td></tr>");
        html.Append("</table>\n");
    }

    private static void PerLabel(StringBuilder html, EvalOutcome outcome)
    {
        html.Append("<h2>Per-label scores</h2>\n<table id=\"per-label\"><tr><th class=\"l\">label</th>");
        if (outcome.Thresholds is not null)
            html.Append("<th>threshold</th>");
        html.Append("<th class=\"l\">precision</th><th class=\"l\">recall</th><th class=\"l\">F1</th><th>support</th><th>predicted</th></tr>\n");
        for (var i = 0; i < outcome.PerLabel.Count; i++)
        {
            var m = outcome.PerLabel[i];
            html.Append("<tr><td class=\"l\">").Append(E(m.Label)).Append("</td>");
            if (outcome.Thresholds is { } thresholds)
                html.Append("<td>").Append(F(thresholds[i])).Append("</td>");
            foreach (var value in new[] { m.Precision, m.Recall, m.F1 })
                html.Append("<td class=\"l\"><span class=\"bar\" style=\"width:").Append(((int)Math.Round(value * 120)).ToString(CultureInfo.InvariantCulture)).Append("px\"></span>").Append(F(value)).Append("</td>");
            html.Append("<td>").Append(N(m.Support)).Append("</td><td>").Append(N(m.Predicted)).Append("</td></tr>\n");
        }
        html.Append("</table>\n");
    }

    private static void Confusion(StringBuilder html, EvalOutcome outcome)
    {
        html.Append(outcome.IsMultiLabel
            ? "<h2>Label confusion</h2>\n<p>Rows: a gold label the model missed; columns: a label it gave instead (same document). Diagonal: correct labels.</p>\n"
            : "<h2>Confusion matrix</h2>\n<p>Rows: gold label; columns: predicted label. Shade: share of the row.</p>\n");
        html.Append("<table id=\"confusion\"><tr><th class=\"l\">gold \\ predicted</th>");
        foreach (var label in outcome.Labels)
            html.Append("<th>").Append(E(label)).Append("</th>");
        html.Append("</tr>\n");
        for (var g = 0; g < outcome.Labels.Count; g++)
        {
            var row = outcome.Confusion[g];
            var total = Math.Max(1, row.Sum());
            html.Append("<tr><th class=\"l\">").Append(E(outcome.Labels[g])).Append("</th>");
            foreach (var count in row)
            {
                var share = (double)count / total;
                var shade = (int)Math.Round(255 - (share * 180));
                html.Append("<td style=\"background:rgb(").Append(Invariant(shade)).Append(',').Append(Invariant(shade)).Append(",255)\">").Append(N(count)).Append("</td>");
            }
            html.Append("</tr>\n");
        }
        html.Append("</table>\n");
    }

    private static void Confused(StringBuilder html, EvalOutcome outcome)
    {
        var pairs = outcome.MostConfused(ConfusedPairs, ExamplesPerPair);
        html.Append("<h2>Most confused pairs</h2>\n");
        if (pairs.Count == 0)
        {
            html.Append("<p>No document was given a wrong label.</p>\n");
            return;
        }
        html.Append("<ol id=\"confused\">\n");
        foreach (var pair in pairs)
        {
            html.Append("<li><b>").Append(E(pair.Gold)).Append("</b> labelled <b>").Append(E(pair.Predicted)).Append("</b>: ")
                .Append(N(pair.Count)).Append(pair.Count == 1 ? " document" : " documents");
            foreach (var example in pair.Examples)
            {
                var text = example.Text.Length > ExcerptCharacters ? example.Text[..ExcerptCharacters] + "…" : example.Text;
                html.Append("<blockquote><b>").Append(E(example.Id)).Append("</b>: ").Append(E(text)).Append("</blockquote>");
            }
            html.Append("</li>\n");
        }
        html.Append("</ol>\n");
    }

    private static void WriteAtomically(string path, byte[] bytes)
    {
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string F(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);

    private static string P(double value) => value.ToString("P2", CultureInfo.InvariantCulture);

    private static string N(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
