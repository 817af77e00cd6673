using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace PeftOnnx.Runtime.Documents;

/// <summary>
/// The readable text of an HTML page: script, style, head metadata and comments removed, block elements
/// turned into line breaks, other tags dropped, entities decoded, whitespace collapsed. Not a full HTML
/// parser; enough for documents whose words are what a classifier needs. Every pattern runs on the non-backtracking
/// engine, so the time is linear in the page's length: with backtracking, thousands of unclosed "&lt;script&gt;" or
/// "&lt;!--" made each one scan to the end of the page (32 KB of them took 5 s, growing with the square of the length).
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

    [GeneratedRegex("<!--.*?-->", RegexOptions.Singleline | RegexOptions.NonBacktracking)]
    private static partial Regex Comments();

    // One alternative per element: the non-backtracking engine has no backreferences.
    [GeneratedRegex(
        @"<script\b[^>]*>.*?</script\s*>|<style\b[^>]*>.*?</style\s*>|<noscript\b[^>]*>.*?</noscript\s*>"
        + @"|<template\b[^>]*>.*?</template\s*>|<head\b[^>]*>.*?</head\s*>|<svg\b[^>]*>.*?</svg\s*>",
        RegexOptions.Singleline | RegexOptions.IgnoreCase | RegexOptions.NonBacktracking)]
    private static partial Regex InvisibleElements();

    [GeneratedRegex(@"</?(p|div|br|h[1-6]|li|ul|ol|tr|td|th|table|section|article|header|footer|pre|blockquote|title|dd|dt)\b[^>]*>", RegexOptions.IgnoreCase | RegexOptions.NonBacktracking)]
    private static partial Regex BlockBoundaries();

    [GeneratedRegex("<[^>]*>", RegexOptions.Singleline | RegexOptions.NonBacktracking)]
    private static partial Regex Tags();

    [GeneratedRegex(@"[ \t\r\f\v\u00a0]+", RegexOptions.NonBacktracking)]
    private static partial Regex Spaces();
}
