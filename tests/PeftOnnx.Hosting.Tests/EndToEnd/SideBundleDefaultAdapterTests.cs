using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.OrtAdapters;
using PeftOnnx.Hosting.Tests.Support;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Scoring;
using PeftOnnx.Runtime.Sessions;
using PeftOnnx.Tests;
using Xunit.Abstractions;
using static PeftOnnx.Hosting.Tests.Support.SideBundleFixture;

namespace PeftOnnx.Hosting.Tests.EndToEnd;

/// <summary>
/// `score` and `serve` on a side-form bundle (one adapter per run) that names no adapter: the bundle's only adapter
/// scores, as `eval` does; with several, `score` refuses and `serve` makes requests and inbox documents name one. The
/// bare graph's default inputs (zero LoRA deltas, the classifier of the adapter it was exported with) never score.
/// </summary>
public sealed class SideBundleDefaultAdapterTests : IClassFixture<SideBundleDefaultAdapterTests.Bundle>, IDisposable
{
    private readonly Bundle _bundle;
    private readonly ITestOutputHelper _output;
    private readonly TempFolder _temp = new("side-default");

    public SideBundleDefaultAdapterTests(Bundle bundle, ITestOutputHelper output) => (_bundle, _output) = (bundle, output);

    /// <summary>
    /// A side-form bundle exported with <see cref="Primary"/> (the graph's default classifier) whose adapters/ holds only
    /// <see cref="Reversed"/>, so the only adapter and the bare graph disagree visibly; and an adapter folder with both.
    /// </summary>
    public sealed class Bundle : IDisposable
    {
        private readonly TempFolder _temp = new("side-default-bundle");

        public Bundle()
        {
            Directory = new SideBundleExporter().Export(new SideBundleOptions
            {
                BaseDirectory = TestModels.EnsurePulled("minilm-l6"),
                AdapterDirectories = [TestPaths.Fixture("peft", Primary)],
                OutputDirectory = _temp.Combine("side"),
                Form = SideGraphManifest.SideForm,
            }).Directory;
            TwoAdapters = _temp.Combine("two-adapters");
            System.IO.Directory.CreateDirectory(TwoAdapters);
            var primary = Path.Combine(Directory, SideGraphManifest.AdapterFolder, Primary + OrtAdapterFile.Extension);
            File.Copy(primary, Path.Combine(TwoAdapters, Primary + OrtAdapterFile.Extension));
            ReversedTenant.Of(OrtAdapterFile.Load(primary)).Save(Path.Combine(TwoAdapters, Reversed + OrtAdapterFile.Extension));
            File.Copy(Path.Combine(TwoAdapters, Reversed + OrtAdapterFile.Extension), Path.Combine(Directory, SideGraphManifest.AdapterFolder, Reversed + OrtAdapterFile.Extension));
            File.Delete(primary);
        }

        public string Directory { get; }

        /// <summary>An --adapters-dir with <see cref="Primary"/> and <see cref="Reversed"/>.</summary>
        public string TwoAdapters { get; }

        public void Dispose() => _temp.Dispose();
    }

    [Fact]
    public async Task Score_without_adapter_uses_the_only_adapter_not_the_bare_graph()
    {
        var docs = Documents();
        var (code, defaulted, _) = await Cli("score", "--model", _bundle.Directory, docs);
        Assert.Equal(0, code);
        (code, var named, _) = await Cli("score", "--model", _bundle.Directory, "--adapter", Reversed, docs);
        Assert.Equal(0, code);
        var withDefault = Records(defaulted);
        var withAdapter = Records(named);
        Assert.Equal(ReversedTenant.Texts.Length, withDefault.Count);
        Assert.Equal(withAdapter.Keys.Order(), withDefault.Keys.Order());
        foreach (var (doc, record) in withAdapter)
        {
            Assert.Equal(record.GetProperty("label").GetString(), withDefault[doc].GetProperty("label").GetString());
            Assert.Equal(record.GetProperty("model_id").GetString(), withDefault[doc].GetProperty("model_id").GetString());
        }

        // What `score` ran before: the side graph as a plain model, i.e. its default inputs (Primary's classifier, no LoRA).
        using var bare = OnnxModel.Load(_bundle.Directory, new SessionSettings { Device = DeviceKind.Cpu, IntraOpThreads = 1 });
        var bareScores = new OnnxTextScorer(bare).Score(ReversedTenant.Texts);
        var maxDiff = ReversedTenant.Texts.Select((text, i) => withDefault[$"doc{i}.txt"].GetProperty("probabilities").EnumerateObject()
            .Max(p => Math.Abs(p.Value.GetSingle() - bareScores[i].Probabilities![bare.Manifest.Labels!.ToList().IndexOf(p.Name)]))).Max();
        _output.WriteLine($"default adapter vs the bare side graph: max abs probability diff {maxDiff:E2}");
        Assert.True(maxDiff > 1e-2, $"the adapter scores like the bare graph (max diff {maxDiff})");
    }

    [Fact]
    public async Task Score_with_several_adapters_and_none_chosen_or_an_unknown_one_is_a_usage_error_listing_them()
    {
        var docs = Documents();
        var (code, stdout, stderr) = await Cli("score", "--model", _bundle.Directory, "--adapters-dir", _bundle.TwoAdapters, docs);
        Assert.NotEqual(0, code);
        Assert.Equal("", stdout);
        Assert.Contains("2 adapters", stderr, StringComparison.Ordinal);
        Assert.Contains($"({Primary}, {Reversed}); pick one with --adapter", stderr, StringComparison.Ordinal);

        (code, _, stderr) = await Cli("score", "--model", _bundle.Directory, "--adapters-dir", _bundle.TwoAdapters, "--route", "folder", docs);
        Assert.NotEqual(0, code);
        Assert.Contains("pick one with --adapter", stderr, StringComparison.Ordinal);

        (code, _, stderr) = await Cli("score", "--model", _bundle.Directory, "--adapters-dir", _bundle.TwoAdapters, "--adapter", "nobody", docs);
        Assert.NotEqual(0, code);
        Assert.Contains("--adapter nobody: no adapter \"nobody\"", stderr, StringComparison.Ordinal);
        Assert.Contains($"serving {Primary}, {Reversed}", stderr, StringComparison.Ordinal);

        (code, _, _) = await Cli("score", "--model", _bundle.Directory, "--adapters-dir", _bundle.TwoAdapters, "--adapter", Reversed, docs);
        Assert.Equal(0, code);
    }

    [Fact]
    public async Task Embed_refuses_a_side_bundle_and_points_to_score()
    {
        var (code, stdout, stderr) = await Cli("embed", "--model", _bundle.Directory, "--text", "a chess engine");
        Assert.NotEqual(0, code);
        Assert.Equal("", stdout);
        Assert.Contains("is a side bundle", stderr, StringComparison.Ordinal);
        Assert.Contains("peftonnx score --model", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_defaults_to_the_only_adapter()
    {
        var inbox = _temp.Combine("inbox");
        Directory.CreateDirectory(inbox);
        await using var host = await ServeHostFixture.StartAsync(new Dictionary<string, string?>
        {
            ["Worker:Model"] = _bundle.Directory,
            ["Worker:Device"] = "cpu",
            ["Worker:Inbox:0"] = inbox,
            ["Worker:Outbox"] = _temp.Combine("outbox"),
        });
        Assert.Equal(Reversed, (await host.Client.GetFromJsonAsync<JsonElement>("/v1/adapters")).GetProperty("default_adapter").GetString());
        var response = await host.Client.PostAsJsonAsync("/v1/classify", new { texts = ReversedTenant.Texts });
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(Reversed, body.RootElement.GetProperty("adapter").GetString());

        using var model = Runtime.Adapters.SideModel.Load(_bundle.Directory, new SessionSettings { Device = DeviceKind.Cpu, IntraOpThreads = 1 }, watch: false);
        var expected = new Runtime.Adapters.SideTextScorer(model, Reversed).Score(ReversedTenant.Texts);
        Assert.Equal(expected.Select(s => s.Label), body.RootElement.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("label").GetString()));
    }

    [Fact]
    public async Task Serve_with_several_adapters_needs_requests_and_inbox_documents_to_name_one()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Worker:Model"] = _bundle.Directory,
            ["Worker:AdaptersDir"] = _bundle.TwoAdapters,
            ["Worker:Device"] = "cpu",
        };
        await using (var host = await ServeHostFixture.StartAsync(settings))
        {
            var response = await host.Client.PostAsJsonAsync("/v1/classify", new { texts = new[] { "a text" } });
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("adapter_required", body.RootElement.GetProperty("error").GetProperty("code").GetString());
            Assert.Equal([Primary, Reversed], body.RootElement.GetProperty("error").GetProperty("adapters").EnumerateArray().Select(a => a.GetString()!));

            response = await host.Client.PostAsJsonAsync("/v1/classify", new { texts = new[] { "a text" }, adapter = Reversed });
            response.EnsureSuccessStatusCode();
        }

        settings["Worker:Inbox:0"] = _temp.Combine("inbox2");
        settings["Worker:Outbox"] = _temp.Combine("outbox2");
        settings["Urls"] = "http://127.0.0.1:0";
        var error = Assert.Throws<InvalidOperationException>(() => ServeHost.Build([], settings));
        _output.WriteLine(error.Message);
        Assert.Contains($"serves {Primary}, {Reversed}: set Worker:Adapter", error.Message, StringComparison.Ordinal);
    }

    private string Documents()
    {
        for (var i = 0; i < ReversedTenant.Texts.Length; i++)
            _temp.File(Path.Combine("docs", $"doc{i}.txt"), ReversedTenant.Texts[i]);
        return _temp.Combine("docs");
    }

    private static Dictionary<string, JsonElement> Records(string jsonl) =>
        jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToDictionary(r => r.GetProperty("doc_id").GetString()!);

    private Task<(int Code, string Out, string Error)> Cli(params string[] args) => InProcessCli.RunAsync(_output, args);

    public void Dispose() => _temp.Dispose();
}
