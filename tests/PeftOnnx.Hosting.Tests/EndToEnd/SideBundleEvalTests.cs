using System.Text.Json;
using PeftOnnx.Hosting.Tests.Support;
using PeftOnnx.Runtime.Adapters;
using PeftOnnx.Runtime.Sessions;
using PeftOnnx.Tests;
using Xunit.Abstractions;
using static PeftOnnx.Hosting.Tests.Support.SideBundleFixture;
using static PeftOnnx.Tests.ReversedTenant;

namespace PeftOnnx.Hosting.Tests.EndToEnd;

/// <summary>`eval` on a side bundle evaluates one of its adapters, never the bare base graph's default inputs.</summary>
[Collection("side-bundle")]
public sealed class SideBundleEvalTests(SideBundleFixture bundle, ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder _temp = new("side-eval");

    [Fact]
    public async Task Each_adapter_is_evaluated_with_its_own_weights()
    {
        using var model = SideModel.Load(bundle.Directory, new SessionSettings { Device = DeviceKind.Cpu, IntraOpThreads = 1 }, watch: false);
        var gold = model.Manifest.Labels![0];
        var data = _temp.File("data.jsonl", string.Join('\n', Texts.Select((t, i) => JsonSerializer.Serialize(new { id = $"d{i}", label = gold, text = t }))) + "\n");
        var scorer = new SideTextScorer(model, defaultAdapter: null);

        foreach (var adapter in new[] { Primary, Reversed })
        {
            var (code, stdout, _) = await Cli("eval", "--model", bundle.Directory, "--adapter", adapter, "--data", data, "--json");
            Assert.Equal(0, code);
            using var report = JsonDocument.Parse(stdout);
            Assert.EndsWith($"+{adapter}", report.RootElement.GetProperty("model").GetString(), StringComparison.Ordinal);
            var expected = scorer.Score(Texts, [.. Texts.Select(_ => adapter)]).Count(s => s.Label == gold) / (double)Texts.Length;
            var accuracy = report.RootElement.GetProperty("metrics").GetProperty("accuracy").GetDouble();
            output.WriteLine($"{adapter}: eval accuracy {accuracy:F4}, the adapter scored alone {expected:F4}");
            Assert.Equal(expected, accuracy, 10);
        }
    }

    [Fact]
    public async Task Several_adapters_need_a_choice_and_unknown_ones_are_named()
    {
        var data = _temp.File("one.jsonl", "{\"id\": \"a\", \"label\": \"x\", \"text\": \"a game\"}\n");
        var (code, _, stderr) = await Cli("eval", "--model", bundle.Directory, "--data", data);
        Assert.NotEqual(0, code);
        Assert.Contains("pick one with --adapter", stderr, StringComparison.Ordinal);
        Assert.Contains(Primary, stderr, StringComparison.Ordinal);
        Assert.Contains(Reversed, stderr, StringComparison.Ordinal);

        (code, _, stderr) = await Cli("eval", "--model", bundle.Directory, "--adapter", "nobody", "--data", data);
        Assert.NotEqual(0, code);
        Assert.Contains("--adapter nobody: no adapter \"nobody\"", stderr, StringComparison.Ordinal);
        Assert.Contains($"serving {Primary}, {Reversed}", stderr, StringComparison.Ordinal);
    }

    private Task<(int Code, string Out, string Error)> Cli(params string[] args) => InProcessCli.RunAsync(output, args);

    public void Dispose() => _temp.Dispose();
}
