using System.Net.Http.Json;
using System.Text.Json;
using PeftOnnx.Hosting.Tests.Support;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Scoring;
using PeftOnnx.Runtime.Sessions;
using PeftOnnx.Tests;
using Xunit.Abstractions;

namespace PeftOnnx.Hosting.Tests.EndToEnd;

/// <summary>
/// The host with the real model: minilm-l6 (zero-shot labels) behind the HTTP API and the inbox worker gives the
/// same labels and probabilities as the ONNX scorer called directly.
/// </summary>
public sealed class MiniLmServeTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string[] Labels = ["networking", "fonts", "games"];
    private static readonly string[] Texts =
    [
        "A daemon that routes packets between network interfaces and speaks BGP.",
        "TrueType and OpenType font families with hinting for small screens.",
        "A puzzle game with levels, a high-score table and a level editor.",
    ];

    private readonly TempFolder _temp = new("minilm");

    [Fact]
    public async Task Http_and_inbox_results_match_the_onnx_scorer()
    {
        var modelDir = TestModels.EnsurePulled("minilm-l6");
        using var model = OnnxModel.Load(modelDir, new SessionSettings { Device = DeviceKind.Cpu });
        var direct = new OnnxTextScorer(model, new ScorerOptions { ZeroShotLabels = Labels }).Score(Texts);

        var inbox = _temp.Combine("inbox");
        Directory.CreateDirectory(inbox);
        await using var host = await ServeHostFixture.StartAsync(new Dictionary<string, string?>
        {
            ["Worker:Model"] = modelDir,
            ["Worker:Device"] = "cpu",
            ["Worker:ZeroShotLabels:0"] = Labels[0],
            ["Worker:ZeroShotLabels:1"] = Labels[1],
            ["Worker:ZeroShotLabels:2"] = Labels[2],
            ["Worker:Inbox:0"] = inbox,
            ["Worker:Outbox"] = _temp.Combine("outbox"),
            ["Worker:SettleMs"] = "100",
        });

        var response = await host.Client.PostAsJsonAsync("/v1/classify", new { texts = Texts });
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var maxDiff = 0f;
        for (var i = 0; i < Texts.Length; i++)
        {
            var result = body.RootElement.GetProperty("results")[i];
            Assert.Equal(direct[i].Label, result.GetProperty("label").GetString());
            for (var l = 0; l < Labels.Length; l++)
                maxDiff = Math.Max(maxDiff, Math.Abs(direct[i].Probabilities![l] - result.GetProperty("probabilities").GetProperty(Labels[l]).GetSingle()));
        }
        output.WriteLine($"HTTP vs direct: labels {string.Join(", ", direct.Select(d => d.Label))}, max abs diff of probabilities {maxDiff:E2}");
        Assert.True(maxDiff < 1e-5f, $"max abs diff {maxDiff}");
        Assert.Equal(Labels, direct.Select(d => d.Label));

        // A merged bundle (here the base model) serves no adapters: another name is refused.
        var other = await host.Client.PostAsJsonAsync("/v1/classify", new { texts = Texts, adapter = "acme" });
        Assert.Equal(System.Net.HttpStatusCode.NotFound, other.StatusCode);
        Assert.Contains("unknown_adapter", await other.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        for (var i = 0; i < Texts.Length; i++)
            File.WriteAllText(Path.Combine(inbox, $"doc{i}.txt"), Texts[i]);
        var results = _temp.Combine("outbox", "results.jsonl");
        await Poll.UntilAsync(() => ResultFiles.CountJsonlLines(results) == Texts.Length, TimeSpan.FromSeconds(60), () => "three inbox results");
        var byId = ResultFiles.ReadJsonl(results).ToDictionary(r => r.DocId);
        for (var i = 0; i < Texts.Length; i++)
            Assert.Equal(direct[i].Label, byId[$"doc{i}.txt"].Label);
    }

    public void Dispose() => _temp.Dispose();
}
