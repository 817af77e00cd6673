using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Json;
using PeftOnnx.Export.Cli.Commands.Export;
using PeftOnnx.Onnx.Tests.Commands;

namespace PeftOnnx.Onnx.Tests.Export;

/// <summary>`peftonnx-export export` end to end: options, exit codes, and nothing left behind on failure.</summary>
public sealed class ExportCommandTests : IDisposable
{
    private readonly TempFolder _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private static int Run(params string[] args) => CliRunner.Invoke(args).Code;

    [Fact]
    public void Exports_a_classifier_bundle_with_labels_from_a_file()
    {
        var labelsFile = _tmp.Combine("labels.txt");
        File.WriteAllLines(labelsFile, ["admin", "database", "editors", "electronics", "games", "graphics", "mail", "math", "net", "science", "sound", "video"]);
        var output = _tmp.Combine("bundle");
        var code = Run("export", "--base", AdapterFixtures.BaseModelDirectory, "--adapter", AdapterFixtures.Golden("seqcls_lora_qv_r8"),
            "--output", output, "--labels-file", labelsFile, "--name", "debian-sections");
        Assert.Equal(0, code);
        var bundle = PeftJson.Load<BundleManifest>(Path.Combine(output, BundleManifest.FileName));
        Assert.Equal("debian-sections", bundle.Name);
        Assert.Equal("games", bundle.Labels![4]);
        Assert.True(File.Exists(Path.Combine(output, "model.onnx")));
    }

    [Fact]
    public void A_pooler_classifier_computes_the_cls_row_only_unless_full_last_layer_is_given()
    {
        var adapter = AdapterFixtures.Golden("seqcls_lora_qv_r8");
        var pruned = _tmp.Combine("pruned");
        var full = _tmp.Combine("full");
        Assert.Equal(0, Run("export", "--base", AdapterFixtures.BaseModelDirectory, "--adapter", adapter, "--output", pruned));
        Assert.Equal(0, Run("export", "--base", AdapterFixtures.BaseModelDirectory, "--adapter", adapter, "--output", full, "--full-last-layer"));

        static IEnumerable<string> LastLayerProjections(string bundle) =>
            PeftOnnx.Onnx.Modules.ModuleMap.Build(OnnxModelFile.Load(Path.Combine(bundle, "model.onnx"))).Linears
                .Select(l => l.Name).Where(n => n.StartsWith("encoder.layer.5.attention.self.", StringComparison.Ordinal)).Order();
        Assert.Equal(["encoder.layer.5.attention.self.query"], LastLayerProjections(pruned));
        Assert.Equal(["encoder.layer.5.attention.self.key", "encoder.layer.5.attention.self.query", "encoder.layer.5.attention.self.value"], LastLayerProjections(full));
    }

    [Fact]
    public void Without_label_options_the_labels_come_from_the_trainers_training_json()
    {
        // A trained adapter folder: the golden adapter plus the training.json `peftonnx-export train` writes.
        var adapter = _tmp.Combine("trained");
        Directory.CreateDirectory(adapter);
        foreach (var file in Directory.GetFiles(AdapterFixtures.Golden("seqcls_lora_qv_r8")))
            File.Copy(file, Path.Combine(adapter, Path.GetFileName(file)));
        string[] labels = ["admin", "database", "editors", "electronics", "games", "graphics", "mail", "math", "net", "science", "sound", "video"];
        File.WriteAllText(Path.Combine(adapter, "training.json"), $$"""{"method": "lora", "labels": [{{string.Join(",", labels.Select(l => $"\"{l}\""))}}]}""");
        var output = _tmp.Combine("bundle");
        Assert.Equal(0, Run("export", "--base", AdapterFixtures.BaseModelDirectory, "--adapter", adapter, "--output", output));
        Assert.Equal(labels, PeftJson.Load<BundleManifest>(Path.Combine(output, BundleManifest.FileName)).Labels);
    }

    [Fact]
    public void Failed_export_exits_1_and_leaves_nothing()
    {
        var output = _tmp.Combine("bundle");
        var code = Run("export", "--base", AdapterFixtures.BaseModelDirectory, "--adapter", AdapterFixtures.Golden("seqcls_prompt_tuning_10"), "--output", output, "--mode", "merged");
        Assert.Equal(1, code);
        Assert.False(Directory.Exists(output));
        Assert.Empty(Directory.GetDirectories(_tmp.Path, "bundle.tmp-*"));
    }

    [Fact]
    public void An_adapter_that_cannot_be_merged_gets_a_side_bundle_without_mode_and_says_so()
    {
        var output = _tmp.Combine("bundle");
        var (code, stdout, stderr) = CliRunner.Invoke("export", "--base", AdapterFixtures.BaseModelDirectory, "--adapter", AdapterFixtures.Golden("seqcls_prompt_tuning_10"), "--output", output);
        Assert.True(code == 0, stderr);
        Assert.Contains("PROMPT_TUNING adapters cannot be merged into the base weights; exporting a side-graph bundle (--mode side)", stdout);
        Assert.True(File.Exists(Path.Combine(output, SideGraphManifest.FileName)));
    }

    [Fact]
    public void Unknown_precision_is_a_usage_error()
    {
        Assert.NotEqual(0, Run("export", "--base", "b", "--adapter", "a", "--output", _tmp.Combine("x"), "--precision", "int4"));
        Assert.False(Directory.Exists(_tmp.Combine("x")));
    }

    [Theory]
    [InlineData("a, b ,c", new[] { "a", "b", "c" })]
    [InlineData("solo", new[] { "solo" })]
    public void Inline_labels_are_split_and_trimmed(string inline, string[] expected) =>
        Assert.Equal(expected, ExportCommand.ReadLabels(inline, null));

    [Fact]
    public void Duplicate_labels_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => ExportCommand.ReadLabels("a,b,a", null));
        Assert.Contains("\"a\" appears 2 times", e.Message);
    }
}
