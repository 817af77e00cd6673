using System.Text.Json;

namespace PeftOnnx.Cli.Tests.Commands;

public sealed class ScoreCommandTests(MiniLmDir minilm) : IClassFixture<MiniLmDir>, IDisposable
{
    private readonly TempFolder _folder = new();

    private string MakeDocuments()
    {
        _folder.File("docs/chess.txt", "A chess engine: play chess against the computer, with an opening book and a graphical board.");
        _folder.File("docs/mixer.md", "# Mixer\n\nA music and audio mixer with effects, equalizer and recording of sound.");
        _folder.File("docs/nested/page.html", "<html><body><script>x=1</script><p>PostgreSQL database client &amp; SQL shell</p></body></html>");
        _folder.File("docs/items.jsonl", "{\"text\": \"arcade game with levels\"}\nnot json\n");
        _folder.Bytes("docs/logo.png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00]);
        _folder.Bytes("docs/latin1.txt", [0x63, 0x61, 0x66, 0xE9]);
        _folder.File("docs/empty.txt", "");
        return _folder.Combine("docs");
    }

    [Fact]
    public async Task Folder_with_good_and_bad_files_reports_every_document_and_goes_on()
    {
        var docs = MakeDocuments();
        var output = _folder.Combine("results.jsonl");
        var run = await CliRun.Of("score", "--model", minilm.Path, docs, "--labels", "games,sound,databases", "--output", output, "--device", "cpu");
        Assert.True(run.ExitCode == 0, run.ToString());

        var lines = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var byPath = lines.ToDictionary(l => Path.GetRelativePath(docs, l.GetProperty("path").GetString()!));
        Assert.Equal(
            ["chess.txt", "empty.txt", "items.jsonl#L1", "items.jsonl#L2", "latin1.txt", "logo.png", "mixer.md", "nested/page.html"],
            byPath.Keys.Order(StringComparer.Ordinal));

        Assert.Equal("games", byPath["chess.txt"].GetProperty("label").GetString());
        Assert.Equal("sound", byPath["mixer.md"].GetProperty("label").GetString());
        Assert.Equal("databases", byPath["nested/page.html"].GetProperty("label").GetString());
        var chess = byPath["chess.txt"];
        Assert.Equal("scored", chess.GetProperty("status").GetString());
        Assert.Equal("chess.txt", chess.GetProperty("doc_id").GetString());
        Assert.Equal(1, chess.GetProperty("chunks").GetInt32());
        var probabilities = chess.GetProperty("probabilities").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());
        Assert.Equal(["games", "sound", "databases"], probabilities.Keys);
        Assert.Equal(1.0, probabilities.Values.Sum(), 4);
        Assert.Equal(probabilities["games"], chess.GetProperty("score").GetDouble(), 5);

        Assert.Equal("empty file", byPath["empty.txt"].GetProperty("reason").GetString());
        Assert.StartsWith("binary", byPath["logo.png"].GetProperty("reason").GetString());
        Assert.StartsWith("not valid UTF-8", byPath["latin1.txt"].GetProperty("reason").GetString());
        Assert.StartsWith("invalid JSON", byPath["items.jsonl#L2"].GetProperty("reason").GetString());
        Assert.All(new[] { "empty.txt", "logo.png", "latin1.txt" }, k => Assert.Equal("skipped", byPath[k].GetProperty("status").GetString()));

        Assert.Contains("skipped", run.Error);
        Assert.Contains("4 (", run.Error); // 4 skipped in the summary table.
    }

    [Fact]
    public async Task Resume_after_a_plain_run_writes_no_document_twice()
    {
        var docs = MakeDocuments();
        var output = _folder.Combine("results.jsonl");
        string[] score = ["score", "--model", minilm.Path, docs, "--labels", "games,sound,databases", "--output", output, "--device", "cpu"];

        var plain = await CliRun.Of(score);
        Assert.True(plain.ExitCode == 0, plain.ToString());
        var first = File.ReadAllLines(output);
        var resumed = await CliRun.Of([.. score, "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.ToString());

        Assert.Equal(8, first.Length);
        Assert.Equal(first, File.ReadAllLines(output));
        Assert.Equal(["results.jsonl"], Directory.GetFiles(_folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Csv_output_has_the_record_columns_and_leaves_nothing_beside_it()
    {
        var docs = MakeDocuments();
        var output = _folder.Combine("results.csv");
        var run = await CliRun.Of("score", "--model", minilm.Path, docs, "--labels", "games,sound,databases", "--output", output, "--format", "csv", "--device", "cpu");
        Assert.True(run.ExitCode == 0, run.ToString());

        var lines = File.ReadAllLines(output);
        Assert.Equal("doc_id,content_hash,path,model_id,status,reason,label,score,labels,chunks,tokens,scored_at,p_games,p_sound,p_databases", lines[0]);
        Assert.Equal(9, lines.Length);
        Assert.Equal(4, lines.Count(l => l.Contains(",skipped,", StringComparison.Ordinal)));
        Assert.Equal(["results.csv"], Directory.GetFiles(_folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Resume_without_output_is_a_usage_error()
    {
        var file = _folder.File("x.txt", "x");
        var run = await CliRun.Of("score", "--model", minilm.Path, file, "--labels", "a,b", "--resume");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("--output", run.Error);
    }

    [Fact]
    public async Task Without_labels_a_base_model_writes_embeddings_to_stdout()
    {
        var file = _folder.File("one.txt", "text editor for programmers");
        var run = await CliRun.Of("score", "--model", minilm.Path, file);
        Assert.True(run.ExitCode == 0, run.ToString());
        using var line = JsonDocument.Parse(Assert.Single(run.Lines));
        Assert.Equal(384, line.RootElement.GetProperty("embedding").GetArrayLength());
        Assert.False(line.RootElement.TryGetProperty("label", out _));
    }

    [Fact]
    public async Task Missing_path_is_reported_as_skipped_not_fatal()
    {
        var run = await CliRun.Of("score", "--model", minilm.Path, _folder.Combine("gone.txt"), "--labels", "a,b");
        Assert.Equal(0, run.ExitCode);
        using var line = JsonDocument.Parse(Assert.Single(run.Lines));
        Assert.StartsWith("not found", line.RootElement.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Missing_model_option_is_a_usage_error()
    {
        var run = await CliRun.Of("score", _folder.Path);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("--model", run.Error);
    }

    [Fact]
    public async Task Missing_paths_are_a_usage_error()
    {
        var run = await CliRun.Of("score", "--model", minilm.Path);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("Required argument missing", run.Error);
    }

    [Theory]
    [InlineData("--labels", "games", "at least two")]
    [InlineData("--labels", "a,b,a", "more than once")]
    [InlineData("--batch-size", "0", "--batch-size must be at least 1")]
    [InlineData("--max-bytes", "0", "--max-bytes must be at least 1")]
    [InlineData("--threads", "0", "--threads must be at least 1")]
    public async Task Bad_option_values_are_explained(string option, string value, string message)
    {
        var file = _folder.File("x.txt", "x");
        var output = _folder.Combine("out.jsonl");
        var run = await CliRun.Of("score", "--model", minilm.Path, file, option, value, "--output", output);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains(message, run.Error);
        Assert.False(File.Exists(output));
    }

    public void Dispose() => _folder.Dispose();
}
