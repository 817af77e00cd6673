using PeftOnnx.Runtime.Documents;
using PeftOnnx.Tests;

namespace PeftOnnx.Runtime.Tests.Documents;

public sealed class DocumentReaderTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly DocumentReader _reader = new();

    private DocumentText Single(string path) => Assert.Single(_reader.Read(path));

    [Fact]
    public void Plain_text_and_markdown_are_read_as_is()
    {
        var doc = Single(_folder.File("a.md", "# Title\n\nSome *text*."));
        Assert.False(doc.IsSkipped);
        Assert.Equal("# Title\n\nSome *text*.", doc.Text);
    }

    [Fact]
    public void Utf8_bom_is_dropped()
    {
        var doc = Single(_folder.Bytes("bom.txt", [0xEF, 0xBB, 0xBF, (byte)'h', (byte)'i']));
        Assert.Equal("hi", doc.Text);
    }

    [Fact]
    public void Binary_files_are_skipped_with_the_nul_offset()
    {
        var doc = Single(_folder.Bytes("image.txt", [0x89, (byte)'P', (byte)'N', (byte)'G', 0, 0, 0, 13]));
        Assert.True(doc.IsSkipped);
        Assert.Equal("binary (NUL byte at offset 4)", doc.SkipReason);
    }

    [Fact]
    public void Invalid_utf8_is_skipped_with_the_byte_offset()
    {
        // "café" in Latin-1: 0xE9 is not valid UTF-8 here.
        var doc = Single(_folder.Bytes("latin1.txt", [(byte)'c', (byte)'a', (byte)'f', 0xE9, (byte)' ', (byte)'x']));
        Assert.True(doc.IsSkipped);
        Assert.StartsWith("not valid UTF-8 at byte 3", doc.SkipReason);
    }

    [Fact]
    public void Empty_and_whitespace_only_files_are_skipped()
    {
        Assert.Equal("empty file", Single(_folder.File("empty.txt", "")).SkipReason);
        Assert.StartsWith("no text", Single(_folder.File("blank.txt", " \n\t\n")).SkipReason);
    }

    [Fact]
    public void Files_over_the_size_limit_are_skipped_unread()
    {
        var reader = new DocumentReader(new DocumentReaderOptions { MaxBytes = 1000 });
        var doc = Assert.Single(reader.Read(_folder.File("big.txt", new string('a', 1001))));
        Assert.Equal("too large (1,001 bytes; the limit is 1,000)", doc.SkipReason);
        Assert.False(Assert.Single(reader.Read(_folder.File("ok.txt", new string('a', 1000)))).IsSkipped);
    }

    [Fact]
    public void Deleted_file_is_skipped_as_not_found()
    {
        var path = _folder.File("gone.txt", "text");
        File.Delete(path);
        Assert.StartsWith("not found", Single(path).SkipReason);
    }

    [Fact]
    public void Fifo_is_skipped_without_blocking()
    {
        if (!OperatingSystem.IsLinux())
            return;
        var fifo = SpecialFiles.Fifo(Path.Combine(_folder.Path, "pipe.txt"));
        Assert.Equal("not a regular file (fifo)", SpecialFiles.Promptly(() => Single(fifo)).SkipReason);
    }

    [Fact]
    public void Read_errors_are_reported_as_unreadable()
    {
        if (!OperatingSystem.IsLinux())
            return;
        // Root can read any chmod 000 file, but not /proc/self/mem at offset 0 (unmapped): read() fails with EIO.
        var doc = Single("/proc/self/mem");
        Assert.StartsWith("unreadable: ", doc.SkipReason);
    }

    [Fact]
    public void Directory_is_not_a_document()
    {
        Assert.Equal("is a directory", Single(_folder.Path).SkipReason);
    }

    [Fact]
    public void Html_keeps_visible_text_only()
    {
        var html = """
            <!DOCTYPE html><html><head><title>Ignored title</title><style>p { color: red }</style></head>
            <body><script>var tracking = "secret";</script>
            <h1>Mail&nbsp;server</h1><p>Postfix &amp; friends &lt;3</p><!-- hidden comment -->
            <ul><li>SMTP</li><li>IMAP</li></ul></body></html>
            """;
        var doc = Single(_folder.File("page.html", html));
        Assert.Equal("Mail server\nPostfix & friends <3\nSMTP\nIMAP", doc.Text);
    }

    [Fact]
    public void Json_uses_the_text_field_or_all_strings()
    {
        Assert.Equal("the body", Single(_folder.File("a.json", """{"title": "t", "text": "the body"}""")).Text);
        Assert.Equal("t\nx\ny", Single(_folder.File("b.json", """{"title": "t", "n": 3, "tags": ["x", {"k": "y"}]}""")).Text);
        Assert.StartsWith("invalid JSON", Single(_folder.File("c.json", "{not json")).SkipReason);
    }

    [Fact]
    public void Json_with_a_lone_surrogate_escape_is_skipped_not_thrown()
    {
        // Found by fuzzing (tests/PeftOnnx.Fuzz/corpus/document/crash-json-lone-surrogate): GetString threw InvalidOperationException.
        Assert.StartsWith("invalid JSON", Single(_folder.File("s.json", "{\"text\": \"a\\ud800b\"}")).SkipReason);
        var lines = _reader.Read(_folder.File("s.jsonl", "{\"text\": \"\\udc00\"}\n{\"text\": \"fine\"}\n")).ToList();
        Assert.StartsWith("invalid JSON", lines[0].SkipReason);
        Assert.Equal("fine", lines[1].Text);
    }

    [Fact]
    public async Task Html_with_thousands_of_unclosed_tags_is_read_in_linear_time()
    {
        // Found by fuzzing: with backtracking regexes 32 KB of "<script>" took 5 s and the time grew with the square of the
        // length, so a 10 MB page stalled a worker. 1 MB must finish far inside the bound (minutes before the fix).
        var html = string.Concat(Enumerable.Repeat("<script><!--<p <head x", 50_000));
        var extract = Task.Run(() => HtmlText.Extract(html));
        Assert.Same(extract, await Task.WhenAny(extract, Task.Delay(TimeSpan.FromSeconds(60))));
    }

    [Fact]
    public void Jsonl_gives_one_document_per_line()
    {
        var path = _folder.File("docs.jsonl", "{\"text\": \"first\"}\n\n{\"id\": 2}\nnot json\n{\"text\": \"fourth\"}\n");
        var docs = _reader.Read(path).ToList();
        Assert.Equal(4, docs.Count);
        Assert.Equal((path + "#L1", "first"), (docs[0].Path, docs[0].Text));
        Assert.Equal(path + "#L3", docs[1].Path);
        Assert.Contains("\"text\" field", docs[1].SkipReason);
        Assert.StartsWith("invalid JSON", docs[2].SkipReason);
        Assert.Equal((path + "#L5", "fourth"), (docs[3].Path, docs[3].Text));
    }

    [Fact]
    public void Csv_gives_one_document_per_row_of_the_text_column()
    {
        var path = _folder.File("docs.csv", "id,Text\n1,plain\n2,\"quoted, with comma\nand \"\"newline\"\"\"\n3\n");
        var docs = _reader.Read(path).ToList();
        Assert.Equal(3, docs.Count);
        Assert.Equal("plain", docs[0].Text);
        Assert.Equal(path + "#row3", docs[1].Path);
        Assert.Equal("quoted, with comma\nand \"newline\"", docs[1].Text);
        Assert.Contains("row has 1 fields", docs[2].SkipReason);
    }

    [Fact]
    public void Csv_without_a_text_column_names_its_columns()
    {
        var doc = Single(_folder.File("bad.csv", "id,body\n1,x\n"));
        Assert.Equal("no \"text\" column in the CSV header (columns: id, body)", doc.SkipReason);
    }

    public void Dispose() => _folder.Dispose();
}
