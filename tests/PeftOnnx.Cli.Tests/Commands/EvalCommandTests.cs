using System.Text.Json;
using PeftOnnx.Tests;

namespace PeftOnnx.Cli.Tests.Commands;

public sealed class EvalCommandTests(MiniLmDir minilm) : IClassFixture<MiniLmDir>, IDisposable
{
    private readonly TempFolder _folder = new();

    /// <summary>The first <paramref name="perLabel"/> test examples of three sections.</summary>
    private string SmallTestSet(int perLabel = 4)
    {
        var lines = File.ReadLines(TestPaths.Data("debian-sections.test.jsonl"))
            .Select(l => (Line: l, Label: JsonDocument.Parse(l).RootElement.GetProperty("label").GetString()!))
            .Where(x => x.Label is "games" or "sound" or "math")
            .GroupBy(x => x.Label)
            .SelectMany(g => g.Take(perLabel).Select(x => x.Line));
        return _folder.File("small.jsonl", string.Join('\n', lines) + "\n");
    }

    [Fact]
    public async Task Zero_shot_evaluation_reports_consistent_metrics_as_json()
    {
        var run = await CliRun.Of("eval", "--model", minilm.Path, "--data", SmallTestSet(), "--json", "--device", "cpu");
        Assert.True(run.ExitCode == 0, run.ToString());
        using var report = JsonDocument.Parse(run.Out);
        var metrics = report.RootElement.GetProperty("metrics");
        Assert.Equal("zero-shot", report.RootElement.GetProperty("mode").GetString());
        Assert.Equal(12, metrics.GetProperty("count").GetInt32());
        Assert.Equal(["games", "math", "sound"], metrics.GetProperty("labels").EnumerateArray().Select(e => e.GetString()));

        var confusion = metrics.GetProperty("confusion").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetInt32()).ToArray()).ToArray();
        Assert.Equal(12, confusion.Sum(r => r.Sum()));
        Assert.All(confusion, row => Assert.Equal(4, row.Sum()));
        var accuracy = metrics.GetProperty("accuracy").GetDouble();
        Assert.Equal((confusion[0][0] + confusion[1][1] + confusion[2][2]) / 12.0, accuracy, 10);
        // Three easy, distinct sections: the embedding model is well above chance (1/3).
        Assert.True(accuracy > 0.5, $"accuracy {accuracy}");
    }

    [Fact]
    public async Task Text_report_has_the_confusion_matrix()
    {
        var run = await CliRun.Of("eval", "--model", minilm.Path, "--data", SmallTestSet(2));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("accuracy:", run.Out);
        Assert.Contains("macro-F1:", run.Out);
        Assert.Contains("confusion matrix (rows: gold, columns: predicted)", run.Out);
    }

    [Fact]
    public async Task Data_labels_outside_the_given_labels_are_named()
    {
        var run = await CliRun.Of("eval", "--model", minilm.Path, "--data", SmallTestSet(1), "--labels", "games,sound");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("labels the model cannot predict: math", run.Error);
    }

    [Fact]
    public async Task Missing_model_option_is_a_usage_error()
    {
        var run = await CliRun.Of("eval", "--data", SmallTestSet(1));
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("--model", run.Error);
    }

    [Fact]
    public async Task Missing_data_option_is_a_usage_error()
    {
        var run = await CliRun.Of("eval", "--model", minilm.Path);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("--data", run.Error);
    }

    [Fact]
    public async Task Malformed_data_names_the_line()
    {
        var data = _folder.File("bad.jsonl", "{\"text\": \"x\", \"label\": \"a\"}\n{\"text\": \"y\", \"label\": \"b\"}\n{\"text\": 3, \"label\": \"a\"}\n");
        var run = await CliRun.Of("eval", "--model", minilm.Path, "--data", data);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("bad.jsonl line 3 has no non-empty string \"text\" field", run.Error);
    }

    [Fact]
    public async Task Folder_per_label_data_is_evaluated()
    {
        _folder.File("data/games/chess.txt", "chess game against the computer");
        _folder.File("data/sound/mixer.txt", "audio mixer for music recording");
        var output = _folder.Combine("metrics.json");
        var run = await CliRun.Of("eval", "--model", minilm.Path, "--data", _folder.Combine("data"), "--json", "--output", output);
        Assert.True(run.ExitCode == 0, run.ToString());
        using var report = JsonDocument.Parse(File.ReadAllText(output));
        Assert.Equal(2, report.RootElement.GetProperty("metrics").GetProperty("count").GetInt32());
    }

    public void Dispose() => _folder.Dispose();
}
