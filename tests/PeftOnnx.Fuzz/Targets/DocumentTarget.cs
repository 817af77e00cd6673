using PeftOnnx.Runtime.Documents;

namespace PeftOnnx.Fuzz.Targets;

/// <summary>
/// A document file as <c>score</c> and the inbox read it: the first byte picks the extension (plain text, markdown,
/// HTML, JSON, JSONL, CSV, none), the rest is the file. <see cref="DocumentReader"/> promises never to throw for a bad
/// file (it skips it with a reason), so it has no allowed exception.
/// </summary>
public sealed class DocumentTarget : FuzzTarget
{
    /// <summary>The extensions the reader tells apart, and one it does not know.</summary>
    public static readonly string[] Extensions = [".txt", ".md", ".html", ".htm", ".xhtml", ".json", ".jsonl", ".ndjson", ".csv", ""];

    private readonly ScratchFolder _scratch = new("document");
    private readonly DocumentReader _reader = new(new DocumentReaderOptions { MaxBytes = 1 << 20 });

    public override string Name => "document";

    public override string Description => "a document: first byte = extension index (txt, md, html, htm, xhtml, json, jsonl, ndjson, csv, none), then the file";

    public override void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
            return;
        var extension = Extensions[input[0] % Extensions.Length];
        var path = _scratch.Write("document" + extension, input[1..]);
        foreach (var document in _reader.Read(path))
        {
            if (document.IsSkipped == (document.Text is not null))
                throw new InvalidOperationException($"{document.Path}: a document must have text or a skip reason, not both or neither.");
        }
    }

    public override bool IsOwnFormatError(Exception exception) => false;
}
