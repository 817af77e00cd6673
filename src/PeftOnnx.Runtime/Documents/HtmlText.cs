using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace PeftOnnx.Runtime.Documents;

/// <summary>
/// The readable text of an HTML page: script, style, head metadata and comments removed, block elements
/// turned into line breaks, other tags dropped, entities decoded, whitespace collapsed. Not a full HTML
/// parser; enough for documents whose words are what a classifier needs.
/// </summary>
public static partial class HtmlText
{
    public static string Extract(string html)
    {
        var text = Comments().Replace(html, " ");
        text = InvisibleElements().Replace(text, " ");
        text = BlockBoundaries().Replace(text, "\n");
        text = Tags().Replace(text, " ");
        text = WebUtility.HtmlDecode(text);
        var lines = text.Split('\n')
            .Select(line => Spaces().Replace(line, " ").Trim())
            .Where(line => line.Length > 0);
        return string.Join('\n', lines);
    }

    [GeneratedRegex("<!--.*?-->", RegexOptions.Singleline)]
    private static partial Regex Comments();

    [GeneratedRegex(@"<(script|style|noscript|template|head|svg)\b[^>]*>.*?</\1\s*>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex InvisibleElements();

    [GeneratedRegex(@"</?(p|div|br|h[1-6]|li|ul|ol|tr|td|th|table|section|article|header|footer|pre|blockquote|title|dd|dt)\b[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex BlockBoundaries();

    [GeneratedRegex("<[^>]*>", RegexOptions.Singleline)]
    private static partial Regex Tags();

    [GeneratedRegex(@"[ \t\r\f\v\u00a0]+")]
    private static partial Regex Spaces();
}
