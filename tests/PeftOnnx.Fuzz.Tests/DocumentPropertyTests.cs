using System.Text;
using CsCheck;
using PeftOnnx.Fuzz.Targets;

namespace PeftOnnx.Fuzz.Tests;

/// <summary>Generated documents of every kind the reader tells apart, built from the fragments its parsers react to.</summary>
public sealed class DocumentPropertyTests
{
    private static readonly Gen<string> Fragment = Gen.OneOf(
        Gen.String,
        Gen.OneOf(
            "<script>", "</script>", "<style a=1>", "<!--", "-->", "<p>", "</p", "<br/>", "<head>", "&amp;", "&#x1F600;", "&#99999999;",
            "\"", "\"\"", ",", "\n", "\r\n", "{", "}", "[", "]", ":", "\"text\"", "{\"text\": \"x\"}", "\\ud800", "\\u0000", "\u00e9",
            "\U0001F600", "text", "id,text", "\t", " "));

    private static readonly Gen<byte[]> Document =
        from extension in Gen.Int[0, DocumentTarget.Extensions.Length - 1]
        from fragments in Fragment.Array[0, 40]
        select (byte[])[(byte)extension, .. Encoding.UTF8.GetBytes(string.Concat(fragments))];

    [Fact]
    public void Every_document_is_read_or_skipped_with_a_reason()
    {
        var target = new DocumentTarget();
        Document.Sample(bytes =>
        {
            var outcome = target.Check(bytes);
            Assert.False(outcome.IsCrash, outcome.Error?.ToString());
        }, iter: 3000, threads: 1);
    }
}
