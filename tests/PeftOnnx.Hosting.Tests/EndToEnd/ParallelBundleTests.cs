using System.Net.Http.Json;
using System.Text.Json;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Json;
using PeftOnnx.Hosting.Tests.Support;
using PeftOnnx.Onnx;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Scoring;
using PeftOnnx.Runtime.Sessions;
using PeftOnnx.Runtime.Tokenization;
using PeftOnnx.Tests;
using Xunit.Abstractions;

namespace PeftOnnx.Hosting.Tests.EndToEnd;

/// <summary>
/// A parallel bundle of three task adapters (LoRA in layers 4 and 5, each with its own classifier,
/// <see cref="TaskAdapters"/>) against the three single-task merged bundles of the same adapters: equal logits per
/// task from one run, and `score` (JSONL, CSV), HTTP and the inbox worker writing every task's result in one record.
/// </summary>
public sealed class ParallelBundleTests : IClassFixture<ParallelBundleTests.Bundles>, IDisposable
{
    private static readonly string[] Tasks = ["sections", "interface", "implemented-in"];
    private readonly Bundles _bundles;
    private readonly ITestOutputHelper _output;
    private readonly TempFolder _temp = new("parallel");

    public ParallelBundleTests(Bundles bundles, ITestOutputHelper output) => (_bundles, _output) = (bundles, output);

    public sealed class Bundles : IDisposable
    {
        private readonly TempFolder _temp = new("parallel-bundles");

        public Bundles()
        {
            var baseDir = TestModels.EnsurePulled("minilm-l6");
            Adapters = Tasks.Select((t, i) => TaskAdapters.Write(_temp.Combine("adapters"), t, seed: 100 + i)).ToArray();
            SingleTask = Tasks.Select((t, i) => new BundleExporter().Export(new BundleExportOptions
            {
                BaseDirectory = baseDir,
                AdapterDirectory = Adapters[i],
                OutputDirectory = _temp.Combine("single", t),
                Labels = TaskAdapters.Labels[t],
            }).Directory).ToArray();
            Result = new ParallelBundleExporter().Export(new ParallelBundleOptions(
                new BundleExportOptions { BaseDirectory = baseDir, AdapterDirectory = "", OutputDirectory = _temp.Combine("parallel") },
                [.. Tasks.Select((t, i) => new ParallelTask(t, Adapters[i], TaskAdapters.Labels[t]))]));
        }

        public string[] Adapters { get; }

        public string[] SingleTask { get; }

        public ParallelExportResult Result { get; }

        public string Parallel => Result.Directory;

        public string Combine(params string[] parts) => _temp.Combine(parts);

        public void Dispose() => _temp.Dispose();
    }

    private static IReadOnlyList<string> Texts(int count) =>
        [.. File.ReadLines(TestPaths.Data("debian-sections.dev.jsonl")).Take(count).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()!)];

    private static OnnxModel Load(string directory) => OnnxModel.Load(directory, new SessionSettings { Device = DeviceKind.Cpu, IntraOpThreads = 1 });

    [Fact]
    public void Each_task_gets_the_logits_of_its_single_task_bundle_from_one_run()
    {
        var manifest = PeftJson.Load<BundleManifest>(Path.Combine(_bundles.Parallel, BundleManifest.FileName));
        Assert.Equal("parallel", manifest.Mode);
        Assert.Null(manifest.Labels);
        Assert.Equal(Tasks, manifest.Tasks!.Select(t => t.Name));
        _output.WriteLine(_bundles.Result.Union.ToString());
        // The embeddings and layers 0-3 are the same in all three graphs and kept once; layers 4-5 and the heads are each task's.
        Assert.True(_bundles.Result.Union.SharedNodes > 0, "nothing shared");
        Assert.All(_bundles.Result.Union.Tasks, t => Assert.InRange(t.OwnNodes, 1, t.Nodes - _bundles.Result.Union.SharedNodes));
        Assert.All(_bundles.Result.Union.Tasks, t => Assert.True(_bundles.Result.Union.SharedNodes > t.Nodes / 2, $"{t.Task}: {_bundles.Result.Union.SharedNodes} of {t.Nodes} nodes shared"));

        using var parallel = Load(_bundles.Parallel);
        // Right-padded rows of different lengths in one batch (the padding must not leak into any task).
        var windows = Texts(6).Select((t, i) => parallel.Tokenizer.Encode(t, 8 + (i * 9))).ToList();
        Assert.True(windows.Select(w => w.Length).Distinct().Count() > 3);
        var batch = TokenBatch.Create(windows, parallel.Tokenizer.PadId);
        var rows = parallel.ClassScores(batch);
        var offset = 0;
        for (var t = 0; t < Tasks.Length; t++)
        {
            using var single = Load(_bundles.SingleTask[t]);
            var expected = single.ClassScores(batch);
            var labels = TaskAdapters.Labels[Tasks[t]].Length;
            var maxDiff = 0f;
            for (var r = 0; r < rows.Length; r++)
            {
                for (var l = 0; l < labels; l++)
                    maxDiff = Math.Max(maxDiff, Math.Abs(rows[r][offset + l] - expected[r][l]));
            }
            _output.WriteLine($"{Tasks[t]}: parallel vs single-task bundle, {rows.Length} rows of lengths {string.Join(",", windows.Select(w => w.Length))}: max abs logit diff {maxDiff:E2}");
            Assert.True(maxDiff <= 1e-5f, $"{Tasks[t]}: max abs diff {maxDiff}");
            offset += labels;
        }
        Assert.Equal(offset, rows[0].Length);
    }

    [Fact]
    public async Task Score_writes_one_record_per_document_with_every_task()
    {
        var docs = Documents(8);
        var results = _temp.Combine("results.jsonl");
        var (code, _, _) = await Cli("score", "--model", _bundles.Parallel, docs, "--output", results);
        Assert.Equal(0, code);
        var records = File.ReadLines(results).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(8, records.Count);

        var texts = records.Select(r => File.ReadAllText(r.GetProperty("path").GetString()!)).ToList();
        var maxDiff = 0f;
        for (var t = 0; t < Tasks.Length; t++)
        {
            using var single = Load(_bundles.SingleTask[t]);
            var expected = new OnnxTextScorer(single).Score(texts);
            for (var d = 0; d < records.Count; d++)
            {
                Assert.False(records[d].TryGetProperty("label", out _));
                var task = records[d].GetProperty("tasks").GetProperty(Tasks[t]);
                Assert.Equal(expected[d].Label, task.GetProperty("label").GetString());
                var labels = TaskAdapters.Labels[Tasks[t]];
                for (var l = 0; l < labels.Length; l++)
                    maxDiff = Math.Max(maxDiff, Math.Abs(expected[d].Probabilities![l] - task.GetProperty("probabilities").GetProperty(labels[l]).GetSingle()));
            }
        }
        _output.WriteLine($"score records vs single-task scorers: max abs probability diff {maxDiff:E2}");
        Assert.True(maxDiff <= 1e-5f, $"max abs diff {maxDiff}");

        var csv = _temp.Combine("results.csv");
        Assert.Equal(0, (await Cli("score", "--model", _bundles.Parallel, docs, "--output", csv, "--format", "csv")).Code);
        var lines = File.ReadAllLines(csv);
        var header = lines[0].Split(',');
        Assert.Equal(9, lines.Length);
        var byDoc = records.ToDictionary(r => r.GetProperty("doc_id").GetString()!);
        foreach (var row in lines.Skip(1).Select(l => l.Split(',')))
        {
            foreach (var task in Tasks)
            {
                var column = Array.IndexOf(header, task + ".label");
                Assert.True(column > 0, lines[0]);
                Assert.Equal(byDoc[row[0]].GetProperty("tasks").GetProperty(task).GetProperty("label").GetString(), row[column]);
                Assert.Contains($"p_{task}.{TaskAdapters.Labels[task][0]}", header);
            }
        }
    }

    [Fact]
    public async Task Http_and_the_inbox_worker_return_every_task()
    {
        var texts = Texts(3);
        using var parallel = Load(_bundles.Parallel);
        var direct = new OnnxTextScorer(parallel).Score(texts);
        var inbox = _temp.Combine("inbox");
        Directory.CreateDirectory(inbox);
        await using var host = await ServeHostFixture.StartAsync(new Dictionary<string, string?>
        {
            ["Worker:Model"] = _bundles.Parallel,
            ["Worker:Device"] = "cpu",
            ["Worker:Inbox:0"] = inbox,
            ["Worker:Outbox"] = _temp.Combine("outbox"),
            ["Worker:SettleMs"] = "100",
        });

        var response = await host.Client.PostAsJsonAsync("/v1/classify", new { texts });
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        _output.WriteLine(body.RootElement.GetProperty("results")[0].ToString());
        for (var i = 0; i < texts.Count; i++)
        {
            var result = body.RootElement.GetProperty("results")[i];
            Assert.False(result.TryGetProperty("label", out _));
            foreach (var task in Tasks)
                Assert.Equal(direct[i].Tasks![task].Label, result.GetProperty("tasks").GetProperty(task).GetProperty("label").GetString());
        }

        for (var i = 0; i < texts.Count; i++)
            File.WriteAllText(Path.Combine(inbox, $"doc{i}.txt"), texts[i]);
        var results = _temp.Combine("outbox", "results.jsonl");
        await Poll.UntilAsync(() => ResultFiles.CountJsonlLines(results) == texts.Count, TimeSpan.FromSeconds(60), () => "three inbox results");
        var byId = File.ReadLines(results).Select(l => JsonDocument.Parse(l).RootElement).ToDictionary(r => r.GetProperty("doc_id").GetString()!);
        for (var i = 0; i < texts.Count; i++)
        {
            var record = byId[$"doc{i}.txt"];
            Assert.False(record.TryGetProperty("label", out _));
            Assert.Equal(Tasks, record.GetProperty("tasks").EnumerateObject().Select(p => p.Name));
            foreach (var task in Tasks)
                Assert.Equal(direct[i].Tasks![task].Label, record.GetProperty("tasks").GetProperty(task).GetProperty("label").GetString());
        }
    }

    [Fact]
    public void The_model_records_its_provenance_and_position_table_and_edge_saves_the_union_optimized()
    {
        var metadata = OnnxModelFile.Load(Path.Combine(_bundles.Parallel, _bundles.Result.Manifest.Model)).MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("512", metadata[BundleManifest.MaxPositionMetadata]); // max_length is checked against it at load, without a probe run
        Assert.Equal(ParallelBundleExporter.Mode, metadata["peftonnx.mode"]);
        Assert.Equal(_bundles.Result.Manifest.Provenance.AdapterSha256, metadata["peftonnx.adapter_sha256"]);
        Assert.Null(_bundles.Result.Manifest.GraphOptimization);

        string[] tasks = [Tasks[0], Tasks[1]];
        var edge = new ParallelBundleExporter().Export(new ParallelBundleOptions(
            new BundleExportOptions { BaseDirectory = TestModels.EnsurePulled("minilm-l6"), AdapterDirectory = "", OutputDirectory = _temp.Combine("edge"), Edge = true, OptimizeForEdge = OfflineOptimization.SaveOrtFormat },
            [.. tasks.Select((t, i) => new ParallelTask(t, _bundles.Adapters[i], TaskAdapters.Labels[t]))]));
        Assert.Equal(BundleManifest.ExtendedOptimization, edge.Manifest.GraphOptimization);
        Assert.Equal(["bundle.json", BundleManifest.OrtModelFile, "vocab.txt"], Directory.GetFiles(edge.Directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var ort = Path.Combine(edge.Directory, edge.Manifest.Model);
        Assert.Equal("ORTM"u8.ToArray(), File.ReadAllBytes(ort)[4..8]); // the ORT format's flatbuffer identifier
        using (var session = new Microsoft.ML.OnnxRuntime.InferenceSession(ort))
        {
            Assert.Equal("512", session.ModelMetadata.CustomMetadataMap[BundleManifest.MaxPositionMetadata]); // kept through ONNX Runtime's save
        }

        // The edge bundle, run as saved (optimization off), gives each task the logits of the plain bundle optimized at load.
        using var plain = Load(_bundles.Parallel);
        using var saved = Load(edge.Directory);
        var windows = Texts(6).Select((t, i) => plain.Tokenizer.Encode(t, 8 + (i * 9))).ToList();
        var batch = TokenBatch.Create(windows, plain.Tokenizer.PadId);
        var expected = plain.ClassScores(batch);
        var actual = saved.ClassScores(batch);
        var width = tasks.Sum(t => TaskAdapters.Labels[t].Length); // the first two tasks lead the plain bundle's rows
        Assert.Equal(width, actual[0].Length);
        var maxDiff = expected.Zip(actual).Max(rows => rows.First.Take(width).Zip(rows.Second).Max(p => Math.Abs(p.First - p.Second)));
        _output.WriteLine($"parallel edge bundle saved optimized vs the plain bundle optimized at load, {tasks.Length} tasks: max abs logit diff {maxDiff:E2}");
        Assert.True(maxDiff <= 1e-5f, $"max abs diff {maxDiff}");
    }

    [Theory]
    [InlineData("sections")]
    [InlineData("interface")]
    public async Task Eval_of_a_task_equals_eval_of_the_same_adapters_single_task_bundle(string task)
    {
        // Real labelled data of the task: debian-sections dev, or the debtags interface task's (tests/fixtures).
        var data = task == "sections"
            ? _temp.File("sections.jsonl", string.Join('\n', File.ReadLines(TestPaths.Data("debian-sections.dev.jsonl")).Take(40)) + "\n")
            : TestPaths.Fixture("debian-interface", "dev.jsonl");
        var (code, parallel, _) = await Cli("eval", "--model", _bundles.Parallel, "--task", task, "--data", data, "--json");
        Assert.Equal(0, code);
        (code, var single, _) = await Cli("eval", "--model", _bundles.SingleTask[Array.IndexOf(Tasks, task)], "--data", data, "--json");
        Assert.Equal(0, code);
        using var fromParallel = JsonDocument.Parse(parallel);
        using var fromSingle = JsonDocument.Parse(single);
        var metrics = fromParallel.RootElement.GetProperty("metrics");
        _output.WriteLine($"{task}: parallel bundle accuracy {metrics.GetProperty("accuracy").GetDouble():F4}, single-task bundle {fromSingle.RootElement.GetProperty("metrics").GetProperty("accuracy").GetDouble():F4}");
        Assert.EndsWith($"/{task}", fromParallel.RootElement.GetProperty("model").GetString(), StringComparison.Ordinal);
        Assert.Equal(TaskAdapters.Labels[task], metrics.GetProperty("labels").EnumerateArray().Select(l => l.GetString()!));
        Assert.Equal(fromSingle.RootElement.GetProperty("metrics").ToString(), metrics.ToString());
    }

    [Fact]
    public async Task Eval_of_a_parallel_bundle_needs_a_task_and_names_the_tasks()
    {
        var data = _temp.File("one.jsonl", "{\"id\": \"a\", \"label\": \"games\", \"text\": \"a game\"}\n");
        var (code, _, stderr) = await Cli("eval", "--model", _bundles.Parallel, "--data", data);
        Assert.NotEqual(0, code);
        Assert.Contains("3 tasks (sections, interface, implemented-in)", stderr, StringComparison.Ordinal);
        Assert.Contains("pick it with --task", stderr, StringComparison.Ordinal);

        (code, _, stderr) = await Cli("eval", "--model", _bundles.Parallel, "--task", "nobody", "--data", data);
        Assert.NotEqual(0, code);
        Assert.Contains("--task nobody: not a task of", stderr, StringComparison.Ordinal);
        Assert.Contains("(tasks: sections, interface, implemented-in)", stderr, StringComparison.Ordinal);

        (code, _, stderr) = await Cli("eval", "--model", _bundles.SingleTask[0], "--task", "sections", "--data", data);
        Assert.NotEqual(0, code);
        Assert.Contains("is not a parallel bundle", stderr, StringComparison.Ordinal);

        // Data of another task: its labels are not the chosen task's.
        (code, _, stderr) = await Cli("eval", "--model", _bundles.Parallel, "--task", "interface", "--data", data);
        Assert.NotEqual(0, code);
        Assert.Contains("labels the model cannot predict: games", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("duplicate", "task name \"sections\" is given 2 times")]
    [InlineData("one", "needs at least two --adapter NAME=FOLDER tasks, got 1")]
    [InlineData("bad-name", "task name \"Sections!\"")]
    [InlineData("no-head", "has no classifier")]
    public void Bad_task_lists_are_refused_and_write_nothing(string kind, string message)
    {
        var noHead = TaskAdapters.Write(_temp.Combine("adapters"), "interface", seed: 7, head: false);
        ParallelTask[] tasks = kind switch
        {
            "duplicate" => [new("sections", _bundles.Adapters[0]), new("sections", _bundles.Adapters[1])],
            "one" => [new("sections", _bundles.Adapters[0])],
            "bad-name" => [new("Sections!", _bundles.Adapters[0]), new("interface", _bundles.Adapters[1])],
            _ => [new("sections", _bundles.Adapters[0]), new("interface", noHead)],
        };
        var output = _temp.Combine("bad-" + kind);
        var e = Assert.ThrowsAny<Exception>(() => new ParallelBundleExporter().Export(new ParallelBundleOptions(
            new BundleExportOptions { BaseDirectory = TestModels.EnsurePulled("minilm-l6"), AdapterDirectory = "", OutputDirectory = output }, tasks)));
        _output.WriteLine(e.Message);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
        Assert.DoesNotContain(Directory.GetDirectories(_temp.Path), d => Path.GetFileName(d).StartsWith(".bad-", StringComparison.Ordinal) || Path.GetFileName(d).StartsWith("bad-", StringComparison.Ordinal));
    }

    private string Documents(int count)
    {
        var docs = _temp.Combine("docs");
        var texts = Texts(count);
        for (var i = 0; i < texts.Count; i++)
            _temp.File(Path.Combine("docs", $"doc{i}.txt"), texts[i]);
        return docs;
    }

    private Task<(int Code, string Out, string Error)> Cli(params string[] args) => InProcessCli.RunAsync(_output, args);

    public void Dispose() => _temp.Dispose();
}
