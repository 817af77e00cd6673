using System.Net.Http.Json;
using System.Text.Json;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Json;
using PeftOnnx.Hosting.Tests.Support;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Sessions;
using PeftOnnx.Tests;
using Xunit.Abstractions;

namespace PeftOnnx.Hosting.Tests.EndToEnd;

/// <summary>
/// A merged multi-label bundle (the seqcls_lora_qv_r8 golden exported with a training.json that says multi-label, the
/// debian-works-with labels and per-label thresholds), scored by `score` (JSONL, CSV, --summary), HTTP and `eval`:
/// every label at or above its threshold is in the record, and eval's metrics agree with the records.
/// </summary>
public sealed class MultiLabelScoringTests : IClassFixture<MultiLabelScoringTests.Bundle>, IDisposable
{
    private static readonly string[] Labels = ["audio", "db", "file", "image", "mail", "software:source", "text", "x7", "x8", "x9", "x10", "x11"];
    private readonly Bundle _bundle;
    private readonly ITestOutputHelper _output;
    private readonly TempFolder _temp = new("multi-label");

    public MultiLabelScoringTests(Bundle bundle, ITestOutputHelper output) => (_bundle, _output) = (bundle, output);

    /// <summary>Thresholds spread over (0, 1), so documents get different label sets.</summary>
    public sealed class Bundle : IDisposable
    {
        private readonly TempFolder _temp = new("multi-label-bundle");

        public Bundle()
        {
            var adapter = _temp.Combine("adapter");
            System.IO.Directory.CreateDirectory(adapter);
            foreach (var file in System.IO.Directory.GetFiles(TestPaths.Fixture("peft", "seqcls_lora_qv_r8")).Where(f => !f.EndsWith("reference.safetensors", StringComparison.Ordinal)))
                File.Copy(file, Path.Combine(adapter, Path.GetFileName(file)));
            Thresholds = [.. Enumerable.Range(0, Labels.Length).Select(i => 0.15f + (0.06f * i))];
            File.WriteAllText(Path.Combine(adapter, "training.json"), JsonSerializer.Serialize(new { labels = Labels, problem_type = BundleManifest.MultiLabelProblem, thresholds = Thresholds }));
            Directory = new BundleExporter().Export(new BundleExportOptions
            {
                BaseDirectory = TestModels.EnsurePulled("minilm-l6"),
                AdapterDirectory = adapter,
                OutputDirectory = _temp.Combine("bundle"),
                Labels = Labels,
            }).Directory;
        }

        public string Directory { get; }

        public float[] Thresholds { get; }

        public void Dispose() => _temp.Dispose();
    }

    private Task<(int Code, string Out, string Error)> Cli(params string[] args) => InProcessCli.RunAsync(_output, args);

    private string Documents()
    {
        var docs = _temp.Combine("docs");
        foreach (var line in File.ReadLines(TestPaths.Fixture("debian-works-with", "test.jsonl")).Take(12))
        {
            using var row = JsonDocument.Parse(line);
            _temp.File(Path.Combine("docs", row.RootElement.GetProperty("id").GetString() + ".txt"), row.RootElement.GetProperty("text").GetString()!);
        }
        return docs;
    }

    [Fact]
    public void The_bundle_has_a_sigmoid_head_and_its_thresholds()
    {
        var manifest = PeftJson.Load<BundleManifest>(Path.Combine(_bundle.Directory, BundleManifest.FileName));
        Assert.True(manifest.IsMultiLabel);
        Assert.Equal(_bundle.Thresholds, manifest.Thresholds!);
        Assert.Equal(["logits", "probabilities"], manifest.Outputs.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Score_records_list_every_label_at_or_above_its_threshold_most_probable_first()
    {
        var results = _temp.Combine("results.jsonl");
        var (code, _, _) = await Cli("score", "--model", _bundle.Directory, Documents(), "--output", results);
        Assert.Equal(0, code);
        var sizes = new HashSet<int>();
        foreach (var line in File.ReadLines(results))
        {
            using var record = JsonDocument.Parse(line);
            var probabilities = record.RootElement.GetProperty("probabilities").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetSingle());
            var chosen = record.RootElement.GetProperty("labels").EnumerateArray().Select(l => (Label: l.GetProperty("label").GetString()!, Score: l.GetProperty("score").GetSingle())).ToList();
            var expected = Labels.Select((l, i) => (Label: l, P: probabilities[l], T: _bundle.Thresholds[i])).Where(x => x.P >= x.T).OrderByDescending(x => x.P).Select(x => x.Label);
            Assert.Equal(expected, chosen.Select(c => c.Label));
            Assert.All(chosen, c => Assert.Equal(probabilities[c.Label], c.Score));
            Assert.Equal(probabilities.MaxBy(p => p.Value).Key, record.RootElement.GetProperty("label").GetString());
            sizes.Add(chosen.Count);
        }
        Assert.True(sizes.Count > 1 || sizes.Single() > 0, "the thresholds should select labels");
    }

    [Fact]
    public async Task Csv_has_the_labels_column_and_summary_counts_each_label()
    {
        var docs = Documents();
        var jsonl = _temp.Combine("r.jsonl");
        Assert.Equal(0, (await Cli("score", "--model", _bundle.Directory, docs, "--output", jsonl)).Code);
        var csv = _temp.Combine("r.csv");
        Assert.Equal(0, (await Cli("score", "--model", _bundle.Directory, docs, "--output", csv, "--format", "csv")).Code);
        var header = File.ReadLines(csv).First().Split(',');
        var column = Array.IndexOf(header, "labels");
        Assert.True(column > 0, string.Join(",", header));
        var fromJson = File.ReadLines(jsonl).Select(l => JsonDocument.Parse(l).RootElement)
            .ToDictionary(r => r.GetProperty("doc_id").GetString()!, r => string.Join(';', r.GetProperty("labels").EnumerateArray().Select(l => l.GetProperty("label").GetString())));
        foreach (var row in File.ReadLines(csv).Skip(1).Select(l => l.Split(',')))
            Assert.Equal(fromJson[row[0]], row[column]);

        var (code, stdout, _) = await Cli("score", "--model", _bundle.Directory, docs, "--summary");
        Assert.Equal(0, code);
        _output.WriteLine(stdout);
        var counts = fromJson.Values.SelectMany(v => v.Length == 0 ? ["(no label)"] : v.Split(';')).GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count());
        foreach (var (label, count) in counts)
            Assert.Contains(stdout.Split('\n'), line => line.StartsWith(label + " ", StringComparison.Ordinal) && line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1] == count.ToString());
        Assert.DoesNotContain("\"doc_id\"", stdout);
    }

    [Fact]
    public async Task Http_classify_returns_the_labels_above_threshold()
    {
        await using var host = await ServeHostFixture.StartAsync(new Dictionary<string, string?> { ["Worker:Model"] = _bundle.Directory, ["Worker:Device"] = "cpu" });
        var response = await host.Client.PostAsJsonAsync("/v1/classify", new { texts = new[] { "An MP3 audio player with a music library", "A mail client" } });
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        foreach (var result in body.RootElement.GetProperty("results").EnumerateArray())
        {
            var probabilities = result.GetProperty("probabilities").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetSingle());
            var expected = Labels.Select((l, i) => (Label: l, P: probabilities[l], T: _bundle.Thresholds[i])).Where(x => x.P >= x.T).OrderByDescending(x => x.P).Select(x => x.Label);
            Assert.Equal(expected, result.GetProperty("labels").EnumerateArray().Select(l => l.GetProperty("label").GetString()));
        }
    }

    [Fact]
    public async Task Eval_reports_multi_label_metrics_that_agree_with_the_scored_labels()
    {
        var data = TestPaths.Fixture("debian-works-with", "test.jsonl");
        var (code, stdout, _) = await Cli("eval", "--model", _bundle.Directory, "--data", data, "--json");
        Assert.Equal(0, code);
        using var report = JsonDocument.Parse(stdout);
        Assert.Equal("multi-label", report.RootElement.GetProperty("mode").GetString());
        var metrics = report.RootElement.GetProperty("metrics");

        using var onnx = OnnxModel.Load(_bundle.Directory, new SessionSettings { Device = DeviceKind.Cpu, IntraOpThreads = 1 });
        var rows = File.ReadLines(data).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var scores = new Runtime.Scoring.OnnxTextScorer(onnx).Score(rows.Select(r => r.GetProperty("text").GetString()!).ToList());
        var exact = rows.Zip(scores).Count(x => x.First.GetProperty("labels").EnumerateArray().Select(l => l.GetString()!).Order().SequenceEqual(x.Second.PredictedLabels!.Order()));
        Assert.Equal((double)exact / rows.Count, metrics.GetProperty("subset_accuracy").GetDouble(), 10);
        var perLabel = metrics.GetProperty("per_label").EnumerateArray().ToList();
        Assert.Equal(Labels.Length, perLabel.Count);
        var macro = perLabel.Average(l => l.GetProperty("f1").GetDouble());
        Assert.Equal(macro, metrics.GetProperty("macro_f1").GetDouble(), 10);
        Assert.Equal(scores.Sum(s => s.PredictedLabels!.Count), perLabel.Sum(l => l.GetProperty("predicted").GetInt32()));
    }

    [Fact]
    public async Task Eval_names_single_label_data_and_unknown_labels()
    {
        var single = _temp.File("single.jsonl", "{\"id\": \"a\", \"label\": \"audio\", \"text\": \"an mp3 player\"}\n");
        var (code, _, stderr) = await Cli("eval", "--model", _bundle.Directory, "--data", single);
        Assert.Equal(1, code);
        Assert.Contains("item 'a' has one \"label\" ('audio')", stderr, StringComparison.Ordinal);
        Assert.Contains("is a multi-label classifier", stderr, StringComparison.Ordinal);

        var unknown = _temp.File("unknown.jsonl", "{\"id\": \"b\", \"labels\": [\"audio\", \"font\"], \"text\": \"a font player\"}\n");
        (code, _, stderr) = await Cli("eval", "--model", _bundle.Directory, "--data", unknown);
        Assert.Equal(1, code);
        Assert.Contains("labels the model cannot predict: font", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bundle_whose_thresholds_do_not_fit_its_labels_is_refused_at_load()
    {
        var copy = _temp.Combine("bad");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(_bundle.Directory).Where(f => Path.GetFileName(f) != BundleManifest.FileName))
            BundleCopy.File(file, Path.Combine(copy, Path.GetFileName(file)));
        var manifest = PeftJson.Load<BundleManifest>(Path.Combine(_bundle.Directory, BundleManifest.FileName)) with { Thresholds = [0.5f, 0.5f] };
        PeftJson.Save(Path.Combine(copy, BundleManifest.FileName), manifest);
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(copy, new SessionSettings { Device = DeviceKind.Cpu }, verify: false));
        Assert.Contains("has 2 thresholds for 12 labels", e.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
