using System.Text.Json;

namespace PeftOnnx.Onnx.Tests.Commands;

public sealed class BenchCommandTests
{
    [Fact]
    public void Alternating_runs_are_timed_for_both_models()
    {
        var (code, stdout, stderr) = CliRunner.Invoke("bench", MiniLm.ModelPath, MiniLm.ModelPath, "--batch", "1", "--seq", "8", "--rounds", "3", "--json");

        Assert.True(code == 0, stderr);
        Assert.Equal(3, stderr.Split('\n').Count(l => l.StartsWith("round ", StringComparison.Ordinal)));
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(3, json.RootElement.GetProperty("result").GetProperty("baseline_ms").GetArrayLength());
        Assert.Equal(3, json.RootElement.GetProperty("result").GetProperty("candidate_ms").GetArrayLength());
        Assert.True(json.RootElement.GetProperty("speedup").GetDouble() > 0);
    }
}
