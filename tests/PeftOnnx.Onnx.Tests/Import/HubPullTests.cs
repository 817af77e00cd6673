using PeftOnnx.Models.Hub;
using PeftOnnx.Onnx.Import;

namespace PeftOnnx.Onnx.Tests.Import;

/// <summary>The Hub client against a loopback server that serves the Hub's routes for a folder made here.</summary>
public sealed class HubPullTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly HttpClient _http = new();

    public void Dispose()
    {
        _http.Dispose();
        _temp.Dispose();
    }

    private string Cache => _temp.Combine("cache");

    private static readonly HubModelId Id = HubModelId.Parse("hf:test-org/tiny-bert");

    private LoopbackHub Serve() => new(TinyBert.Write(_temp.Combine("repo")), "test-org/tiny-bert", "model.safetensors");

    [Fact]
    public async Task Pull_follows_the_redirect_resumes_a_dropped_download_verifies_and_imports()
    {
        using var hub = Serve();
        hub.DropOnce = "model.safetensors";
        var downloader = new HubDownloader(_http, hub.Endpoint, "hf_secret");
        var reports = new List<HubProgress>();

        var (folder, commit) = await downloader.DownloadAsync(Id, Cache, new SyncProgress(reports.Add));

        Assert.Equal(LoopbackHub.Commit, commit);
        Assert.Equal("Bearer hf_secret", hub.LastAuthorization);
        foreach (var file in new[] { "config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json" })
            Assert.Equal(File.ReadAllBytes(_temp.Combine("repo", file)), File.ReadAllBytes(Path.Combine(folder, file)));
        Assert.Contains(hub.Log, l => l.StartsWith("GET /cdn/model.safetensors Range=bytes=", StringComparison.Ordinal));
        Assert.Contains(reports, r => r.File == "model.safetensors" && r.Received == r.Total);
        Assert.Empty(Directory.EnumerateFiles(Cache, "*.incomplete", SearchOption.AllDirectories));

        var result = ModelImporter.Import(folder, "tiny-bert", _temp.Combine("models", "tiny-bert"), hubId: Id.Repo, hubCommit: commit);
        Assert.Equal("hf:test-org/tiny-bert", result.Manifest.Imported!.From);
        Assert.Equal(LoopbackHub.Commit, result.Manifest.Imported.Revision);
        Assert.Equal("test-org/tiny-bert", result.Manifest.HubId);

        // A second pull of the same commit comes from the cache: only the API is asked.
        hub.Log.Clear();
        var again = await downloader.DownloadAsync(Id, Cache);
        Assert.Equal(folder, again.Folder);
        Assert.All(hub.Log, l => Assert.StartsWith("GET /api/models/", l));
    }

    [Fact]
    public async Task Wrong_hash_fails_and_leaves_nothing()
    {
        using var hub = Serve();
        hub.WrongHash = "model.safetensors";
        var downloader = new HubDownloader(_http, hub.Endpoint, null);

        var error = await Assert.ThrowsAsync<HubIntegrityException>(() => downloader.DownloadAsync(Id, Cache));

        Assert.Contains("model.safetensors has sha256", error.Message);
        Assert.Contains(new string('0', 64), error.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(Cache, Id.CacheName, "snapshots")));
        Assert.Null(hub.LastAuthorization);
    }

    [Fact]
    public async Task Pickle_only_repository_is_refused_before_downloading()
    {
        var repo = TinyBert.Write(_temp.Combine("repo"));
        File.Move(Path.Combine(repo, "model.safetensors"), Path.Combine(repo, "pytorch_model.bin"));
        using var hub = new LoopbackHub(repo, "test-org/tiny-bert");
        var downloader = new HubDownloader(_http, hub.Endpoint, null);

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => downloader.DownloadAsync(Id, Cache));

        Assert.Contains("never unpickles", error.Message);
        Assert.DoesNotContain(hub.Log, l => l.Contains("/resolve/", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("hf:BAAI/bge-small-en-v1.5", "BAAI/bge-small-en-v1.5", "main")]
    [InlineData("hf:org/name@refs/pr/3", "org/name", "refs/pr/3")]
    public void Hub_references_parse(string text, string repo, string revision)
    {
        var id = HubModelId.Parse(text);
        Assert.Equal((repo, revision), (id.Repo, id.Revision));
    }

    [Theory]
    [InlineData("BAAI/bge-small")]
    [InlineData("hf:../etc")]
    [InlineData("hf:org/name@../x")]
    public void Bad_hub_references_are_refused(string text) =>
        Assert.Throws<ArgumentException>(() => HubModelId.Parse(text));

    /// <summary>IProgress that reports on the caller's thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SyncProgress(Action<HubProgress> report) : IProgress<HubProgress>
    {
        public void Report(HubProgress value) => report(value);
    }
}
