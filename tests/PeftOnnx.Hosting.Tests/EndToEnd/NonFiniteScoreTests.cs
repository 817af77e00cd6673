using System.Text.Json;
using PeftOnnx.Cli;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.OrtAdapters;
using PeftOnnx.Hosting.Tests.Support;
using Xunit.Abstractions;
using static PeftOnnx.Hosting.Tests.Support.SideBundleFixture;

namespace PeftOnnx.Hosting.Tests.EndToEnd;

/// <summary>`score` with an adapter whose logits overflow: its documents fail with the reason, the others are scored.</summary>
[Collection("side-bundle")]
public sealed class NonFiniteScoreTests(SideBundleFixture bundle, ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder _temp = new("non-finite");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Documents_whose_scores_are_not_finite_fail_with_the_reason_and_the_run_goes_on()
    {
        var adapters = _temp.Combine("adapters");
        Directory.CreateDirectory(adapters);
        File.Copy(bundle.AdapterPath(Primary), Path.Combine(adapters, Primary + OrtAdapterFile.Extension));
        bundle.PrimaryOverflowing().Save(Path.Combine(adapters, "overflowing" + OrtAdapterFile.Extension));
        var docs = _temp.Combine("docs");
        foreach (var adapter in new[] { Primary, "overflowing" })
        {
            Directory.CreateDirectory(Path.Combine(docs, adapter));
            File.WriteAllText(Path.Combine(docs, adapter, "kernel.txt"), "The kernel scheduler handles processes on many CPUs.");
        }
        var results = _temp.Combine("results.jsonl");

        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await PeftOnnxCli.InvokeAsync(
            ["score", "--model", bundle.Directory, "--adapters-dir", adapters, "--route", "folder", "--adapter", Primary, docs, "--output", results, "--device", "cpu"],
            stdout, stderr);
        output.WriteLine(stderr.ToString());
        Assert.Equal(0, code);
        var lines = File.ReadAllLines(results).Select(l => JsonDocument.Parse(l).RootElement)
            .ToDictionary(l => Path.GetFileName(Path.GetDirectoryName(l.GetProperty("path").GetString()!))!);
        output.WriteLine(lines["overflowing"].ToString());
        Assert.Equal("scored", lines[Primary].GetProperty("status").GetString());
        Assert.Equal("failed", lines["overflowing"].GetProperty("status").GetString());
        Assert.Contains("the model's class scores for this text are not finite (", lines["overflowing"].GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_exported_side_bundle_records_the_sha256_of_its_files()
    {
        var manifest = Core.Json.PeftJson.Load<BundleManifest>(Path.Combine(bundle.Directory, BundleManifest.FileName));
        Assert.Equal(["model.onnx", SideGraphManifest.FileName, "vocab.txt"], manifest.Files!.Keys.Order(StringComparer.Ordinal));
    }
}
