using System.Text.Json;

namespace PeftOnnx.Cli.Tests.Commands;

public sealed class EmbedCommandTests(MiniLmDir minilm) : IClassFixture<MiniLmDir>, IDisposable
{
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task Embeddings_are_unit_vectors_of_the_hidden_size()
    {
        var output = _folder.Combine("emb.jsonl");
        var run = await CliRun.Of("embed", "--model", minilm.Path, "--device", "cpu", "--text", "a chess engine", "--text", "an audio mixer", "--output", output);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Empty(run.Out);
        var lines = File.ReadAllLines(output);
        Assert.Equal(2, lines.Length);
        foreach (var line in lines)
        {
            using var json = JsonDocument.Parse(line);
            var vector = json.RootElement.GetProperty("embedding").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(384, vector.Length);
            Assert.Equal(1.0, Math.Sqrt(vector.Sum(v => v * v)), 4);
            Assert.Equal(1, json.RootElement.GetProperty("chunks").GetInt32());
        }
        Assert.Equal(["emb.jsonl"], _folder.Files());
    }

    [Fact]
    public async Task Missing_model_option_is_a_usage_error()
    {
        var run = await CliRun.Of("embed", "--text", "x");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("--model", run.Error);
    }

    [Fact]
    public async Task Unknown_model_name_lists_the_known_ones()
    {
        var run = await CliRun.Of("embed", "--model", "bert-huge", "--text", "x");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("not a known base model name (known: arctic-xs, minilm-l6)", run.Error);
    }

    [Fact]
    public async Task Input_file_that_does_not_exist_is_named()
    {
        var run = await CliRun.Of("embed", "--model", minilm.Path, "--input", _folder.Combine("none.jsonl"));
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("none.jsonl does not exist", run.Error);
    }

    [Fact]
    public async Task Unpulled_model_says_how_to_pull_it()
    {
        Directory.CreateDirectory(_folder.Combine("minilm-l6"));
        File.Copy(Path.Combine(minilm.Path, "model.json"), _folder.Combine("minilm-l6/model.json"));
        var run = await CliRun.Of("embed", "--model", _folder.Combine("minilm-l6"), "--text", "x");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("is missing; run `peftonnx models pull minilm-l6` first", run.Error);
    }

    [Fact]
    public async Task Bad_device_value_is_a_usage_error()
    {
        var run = await CliRun.Of("embed", "--model", minilm.Path, "--text", "x", "--device", "tpu");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("tpu", run.Error);
    }

    public void Dispose() => _folder.Dispose();
}
