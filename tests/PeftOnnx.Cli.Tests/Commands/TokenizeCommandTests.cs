using System.Text.Json;

namespace PeftOnnx.Cli.Tests.Commands;

public sealed class TokenizeCommandTests(MiniLmDir minilm) : IClassFixture<MiniLmDir>, IDisposable
{
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task Text_gives_ids_and_offsets()
    {
        var run = await CliRun.Of("tokenize", "--model", minilm.Path, "--text", "Hello, world!");
        Assert.True(run.ExitCode == 0, run.ToString());
        using var line = JsonDocument.Parse(Assert.Single(run.Lines));
        Assert.Equal([101, 7592, 1010, 2088, 999, 102], line.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("[[0,0],[0,5],[5,6],[7,12],[12,13],[0,0]]", line.RootElement.GetProperty("offsets").GetRawText());
        Assert.Equal("Hello, world!", line.RootElement.GetProperty("text").GetString());
    }

    [Fact]
    public async Task Model_may_be_given_by_name_and_input_by_jsonl_file()
    {
        var input = _folder.File("in.jsonl", "{\"text\": \"first\"}\n\n{\"id\": 7, \"text\": \"second text\"}\n");
        var run = await CliRun.Of("tokenize", "--model", "minilm-l6", "--input", input, "--max-length", "3");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(2, run.Lines.Length);
        using var second = JsonDocument.Parse(run.Lines[1]);
        Assert.Equal(3, second.RootElement.GetProperty("line").GetInt32());
        Assert.Equal(3, second.RootElement.GetProperty("ids").GetArrayLength());
    }

    [Fact]
    public async Task Missing_model_option_is_a_usage_error()
    {
        var run = await CliRun.Of("tokenize", "--text", "x");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("--model", run.Error);
    }

    [Fact]
    public async Task Model_folder_that_does_not_exist_is_named()
    {
        var run = await CliRun.Of("tokenize", "--model", "./no/such/model", "--text", "x");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("--model ./no/such/model: no such folder", run.Error);
    }

    [Fact]
    public async Task Text_and_input_together_are_refused()
    {
        var input = _folder.File("in.jsonl", "{\"text\": \"a\"}\n");
        var run = await CliRun.Of("tokenize", "--model", minilm.Path, "--text", "x", "--input", input);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("exactly one of --text", run.Error);
    }

    [Fact]
    public async Task Bad_input_line_fails_and_leaves_no_output_file()
    {
        var input = _folder.File("in.jsonl", "{\"text\": \"ok\"}\n{\"txt\": \"wrong field\"}\n");
        var output = _folder.Combine("out.jsonl");
        var run = await CliRun.Of("tokenize", "--model", minilm.Path, "--input", input, "--output", output);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("line 2 is not a JSON object with a string \"text\" field", run.Error);
        Assert.Equal(["in.jsonl"], _folder.Files());
    }

    [Fact]
    public async Task Folder_without_a_manifest_is_explained()
    {
        var run = await CliRun.Of("tokenize", "--model", _folder.Path, "--text", "x");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("holds neither bundle.json nor model.json", run.Error);
    }

    public void Dispose() => _folder.Dispose();
}
