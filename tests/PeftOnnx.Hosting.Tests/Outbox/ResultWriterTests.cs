using PeftOnnx.Hosting.Outbox;
using PeftOnnx.Hosting.Tests.Support;
using PeftOnnx.Hosting.Worker;

namespace PeftOnnx.Hosting.Tests.Outbox;

public sealed class ResultWriterTests : IDisposable
{
    private readonly TempFolder _temp = new("outbox");

    private static ResultRecord Record(string docId, string hash, string label = "positive") => new()
    {
        DocId = docId,
        Path = "/in/" + docId,
        ContentHash = hash,
        ModelId = "m",
        Label = label,
        Score = 0.75f,
        Probabilities = new Dictionary<string, float> { ["negative"] = 0.25f, ["positive"] = 0.75f },
        Chunks = 1,
        Tokens = 5,
    };

    [Fact]
    public void Jsonl_cuts_a_torn_last_line_and_finds_existing_results()
    {
        var file = _temp.Combine("results.jsonl");
        using (var writer = new JsonlResultWriter(file))
            writer.Write([Record("a.txt", "h1"), Record("b.txt", "h2")]);
        // A kill -9 in the middle of a write leaves half a record at the end.
        File.AppendAllText(file, "{\"doc_id\":\"c.txt\",\"content_ha");

        using (var reopened = new JsonlResultWriter(file))
        {
            var found = reopened.FindExisting([new ResultKey("a.txt", "h1"), new ResultKey("b.txt", "other"), new ResultKey("c.txt", "h3")]);
            Assert.Equal([new ResultKey("a.txt", "h1")], found.Keys);
            reopened.Write([Record("c.txt", "h3")]);
        }
        var lines = File.ReadAllLines(file);
        Assert.Equal(3, lines.Length);
        Assert.All(lines, l => Assert.EndsWith("}", l, StringComparison.Ordinal));
        Assert.Equal(["a.txt", "b.txt", "c.txt"], JsonlResultWriter.ReadKeys(file).Select(k => k.DocId));
    }

    [Theory]
    [InlineData("{\"doc_id\":5,\"content_hash\":\"h9\"}")]
    [InlineData("{\"doc_id\":{\"a\":1},\"content_hash\":\"h9\"}")]
    [InlineData("{\"doc_id\":\"x.txt\",\"content_hash\":[1]}")]
    [InlineData("{\"doc_id\":\"\\ud800\",\"content_hash\":\"h9\"}")]
    public void Jsonl_lines_that_are_not_records_are_passed_over_when_a_results_file_is_read_back(string corrupt)
    {
        var file = _temp.Combine("results.jsonl");
        using (var writer = new JsonlResultWriter(file))
            writer.Write([Record("a.txt", "h1")]);
        File.AppendAllText(file, corrupt + "\n");
        using (var writer = new JsonlResultWriter(file))
            writer.Write([Record("b.txt", "h2")]);

        Assert.Equal(["a.txt", "b.txt"], JsonlResultWriter.ReadKeys(file).Select(k => k.DocId));
    }

    [Fact]
    public void Json_files_are_keyed_by_document_and_hash_so_a_second_write_replaces_the_first()
    {
        var writer = new JsonFileResultWriter(_temp.Combine("results"));
        var first = writer.Write([Record("sub/a.txt", "0123456789abcdef0123", "negative")]);
        var second = writer.Write([Record("sub/a.txt", "0123456789abcdef0123", "positive")]);
        Assert.Equal(first, second);
        Assert.EndsWith(Path.Combine("sub", "a.txt.0123456789abcdef.json"), first[0], StringComparison.Ordinal);
        var files = Directory.GetFiles(_temp.Combine("results"), "*", SearchOption.AllDirectories);
        Assert.Single(files);
        Assert.Contains("\"label\":\"positive\"", File.ReadAllText(files[0]), StringComparison.Ordinal);
        Assert.Single(writer.FindExisting([new ResultKey("sub/a.txt", "0123456789abcdef0123"), new ResultKey("sub/b.txt", "x")]));
        Assert.Throws<ArgumentException>(() => writer.PathFor(new ResultKey("../escape.txt", "h")));
    }

    [Fact]
    public void Csv_has_one_probability_column_per_label_and_quotes_awkward_paths()
    {
        var file = _temp.Combine("results.csv");
        using (var writer = new CsvResultWriter(file, ["negative", "positive"]))
            writer.Write([Record("a, \"quoted\".txt", "h1"), Record("b.txt", "h2")]);
        var lines = File.ReadAllLines(file);
        Assert.Equal("doc_id,content_hash,path,model_id,status,reason,label,score,labels,chunks,tokens,scored_at,p_negative,p_positive", lines[0]);
        Assert.StartsWith("\"a, \"\"quoted\"\".txt\",h1,", lines[1], StringComparison.Ordinal);
        using var reopened = new CsvResultWriter(file, ["negative", "positive"]);
        Assert.Equal(2, reopened.FindExisting([new ResultKey("a, \"quoted\".txt", "h1"), new ResultKey("b.txt", "h2")]).Count);
    }

    [Fact]
    public void Failed_area_moves_the_input_and_writes_the_reason()
    {
        var input = _temp.Combine("in", "x", "bad.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(input)!);
        File.WriteAllBytes(input, [0, 1, 2]);
        var area = new FailedArea(_temp.Combine("failed"));
        var reasonFile = area.Park(input, "x/bad.bin", "binary (NUL byte at offset 0)", attempts: 1);
        Assert.False(File.Exists(input));
        Assert.True(File.Exists(_temp.Combine("failed", "x", "bad.bin")));
        Assert.Contains("reason: binary (NUL byte at offset 0)", File.ReadAllText(reasonFile), StringComparison.Ordinal);
    }

    [Fact]
    public void Jsonl_append_that_failed_half_way_is_cut_before_the_next_so_a_retried_batch_is_written_once()
    {
        var file = _temp.Combine("results.jsonl");
        using var writer = new JsonlResultWriter(file);
        writer.Write([Record("a.txt", "h1")]);
        // What a write cut short by a full disk leaves: one whole record of the batch and half of the next.
        var whole = File.ReadAllText(file).Replace("a.txt", "b.txt", StringComparison.Ordinal);
        File.AppendAllText(file, whole + "{\"doc_id\":\"c.txt\",\"con");

        writer.Write([Record("b.txt", "h1"), Record("c.txt", "h2")]);
        Assert.Equal(["a.txt", "b.txt", "c.txt"], JsonlResultWriter.ReadKeys(file).Select(k => k.DocId));
        Assert.Equal(3, File.ReadAllLines(file).Length);
    }

    [Theory]
    [InlineData("../../evil", "'..' segment")]
    [InlineData("a/../../evil", "'..' segment")]
    [InlineData("/etc/cron.d/evil", "absolute path")]
    [InlineData("a//b", "empty path segment")]
    [InlineData("a\\..\\..\\evil", "'..' segment")]
    [InlineData("line\nbreak", "control character")]
    [InlineData("", "empty")]
    public void Ids_that_are_not_plain_relative_paths_never_name_a_file(string docId, string problem)
    {
        Assert.Contains(problem, DocumentIds.Problem(docId), StringComparison.Ordinal);
        var writer = new JsonFileResultWriter(_temp.Combine("results"));
        var error = Assert.Throws<ArgumentException>(() => writer.Write([Record(docId, "0123456789abcdef")]));
        Assert.Contains("cannot name a file", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new FailedArea(_temp.Combine("outbox", "failed")).Park(_temp.Combine("x.txt"), docId, "bad", 1));
        // Nothing was written anywhere: not in the outbox, not next to it, not above it.
        Assert.Empty(Directory.EnumerateFileSystemEntries(_temp.Path, "*", SearchOption.AllDirectories));
        Assert.Null(DocumentIds.Problem("sub/dir/doc.txt#L3"));
    }

    [Fact]
    public void Failed_area_keeps_two_inputs_with_the_same_name()
    {
        var area = new FailedArea(_temp.Combine("failed"));
        foreach (var content in new[] { "first", "second" })
        {
            var input = _temp.Combine("in", "bad.bin");
            Directory.CreateDirectory(Path.GetDirectoryName(input)!);
            File.WriteAllText(input, content);
            area.Park(input, "bad.bin", $"reason {content}", attempts: 1);
        }
        Assert.Equal("first", File.ReadAllText(_temp.Combine("failed", "bad.bin")));
        Assert.Equal("second", File.ReadAllText(_temp.Combine("failed", "bad.1.bin")));
        Assert.Contains("reason second", File.ReadAllText(_temp.Combine("failed", "bad.1.bin.reason.txt")), StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
