namespace PeftOnnx.Cli.Tests.Commands;

public sealed class ModelsCommandTests(MiniLmDir minilm) : IClassFixture<MiniLmDir>
{
    [Fact]
    public async Task List_shows_each_model_and_its_state()
    {
        var run = await CliRun.Of("models", "list");
        Assert.True(run.ExitCode == 0, run.ToString());
        var line = Assert.Single(run.Lines, l => l.Contains("minilm-l6", StringComparison.Ordinal));
        Assert.Contains("pulled", line);
        Assert.Contains(run.Lines, l => l.Contains("arctic-xs", StringComparison.Ordinal));
    }

    [Fact]
    public async Task List_of_an_empty_models_folder_says_so()
    {
        using var folder = new TempFolder();
        var run = await CliRun.Of("models", "list", "--models-dir", folder.Path);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("No base models", run.Out);
    }

    [Fact]
    public async Task Pull_of_a_pulled_model_only_verifies()
    {
        var run = await CliRun.Of("models", "pull", "minilm-l6");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"minilm-l6: already pulled and verified ({minilm.Path})", run.Out);
    }

    [Fact]
    public async Task Pull_of_an_unknown_name_lists_the_known_ones()
    {
        var run = await CliRun.Of("models", "pull", "bert-huge");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("error: Unknown model 'bert-huge'. Known models: arctic-xs, minilm-l6.", run.Error);
        Assert.Empty(run.Out);
    }

    [Fact]
    public async Task Pull_without_a_name_asks_for_one()
    {
        var run = await CliRun.Of("models", "pull");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("Name a model to pull", run.Error);
    }

    [Fact]
    public async Task Pull_into_a_fresh_models_folder_then_list()
    {
        using var folder = new TempFolder();
        Directory.CreateDirectory(folder.Combine("minilm-l6"));
        File.Copy(Path.Combine(minilm.Path, "model.json"), folder.Combine("minilm-l6/model.json"));

        var missing = await CliRun.Of("models", "list", "--models-dir", folder.Path);
        Assert.Contains("missing", Assert.Single(missing.Lines, l => l.Contains("minilm-l6", StringComparison.Ordinal)));

        var pull = await CliRun.Of("models", "pull", "minilm-l6", "--models-dir", folder.Path);
        Assert.True(pull.ExitCode == 0, pull.ToString());
        Assert.Contains("minilm-l6: pulled from the", pull.Out);
        Assert.Equal(["minilm-l6/.pulled.json", "minilm-l6/model.json", "minilm-l6/model.onnx", "minilm-l6/vocab.txt"], folder.Files());
    }
}
