using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.OrtAdapters;
using PeftOnnx.Runtime.Adapters;
using Xunit.Abstractions;

namespace PeftOnnx.Runtime.Tests.Adapters;

public sealed class AdapterRegistryTests(ITestOutputHelper output) : IDisposable
{
    private const int In = 8, Out = 6;
    private readonly string _folder = Directory.CreateTempSubdirectory("peftonnx-registry-").FullName;

    private static readonly SideGraphManifest Side = new()
    {
        Form = SideGraphManifest.SideForm,
        PeftType = "LORA",
        BaseModel = "tiny",
        MaxRank = 4,
        Lora =
        [
            new SideLoraSlot("encoder.layer.0.attention.self.query", "encoder.layer.0.attention.self.query.lora_A", "encoder.layer.0.attention.self.query.lora_B", In, Out),
            new SideLoraSlot("encoder.layer.0.attention.self.value", "encoder.layer.0.attention.self.value.lora_A", "encoder.layer.0.attention.self.value.lora_B", In, Out),
        ],
        Parameters = [new SideParameterSlot("classifier.weight", "classifier.weight", [3, Out])],
    };

    [Fact]
    public void Serves_the_folder_and_picks_up_new_and_removed_files_on_rescan()
    {
        Write("a", Lora(rank: 2));
        using var registry = new AdapterRegistry(_folder, Side, watch: false);
        Assert.Equal(["a"], registry.Adapters.Keys);
        Assert.Equal(2, registry.Adapters["a"].Rank);

        Write("b", Lora(rank: 4));
        Assert.Equal(["b"], registry.Rescan());
        Assert.Equal(["a", "b"], registry.Adapters.Keys.Order());

        var old = registry.Adapters["a"];
        File.Delete(Path.Combine(_folder, "a" + OrtAdapterFile.Extension));
        Assert.Equal(["a"], registry.Rescan());
        Assert.True(old.IsReleased);
        var missing = Assert.Throws<AdapterNotFoundException>(() => registry.Acquire("a"));
        output.WriteLine(missing.Message);
        Assert.Contains("serving b", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_adapter_in_use_is_freed_only_after_its_last_run()
    {
        Write("a", Lora(rank: 2));
        using var registry = new AdapterRegistry(_folder, Side, watch: false);
        var lease = registry.Acquire("a");
        File.Delete(Path.Combine(_folder, "a" + OrtAdapterFile.Extension));
        registry.Rescan();
        Assert.False(lease.Adapter.IsReleased);
        var adapter = lease.Adapter;
        lease.Dispose();
        Assert.True(adapter.IsReleased);
    }

    [Fact]
    public void Replacing_a_file_serves_the_new_version()
    {
        Write("a", Lora(rank: 2));
        using var registry = new AdapterRegistry(_folder, Side, watch: false);
        var first = registry.Adapters["a"];
        Write("a", Lora(rank: 3));
        File.SetLastWriteTimeUtc(Path.Combine(_folder, "a" + OrtAdapterFile.Extension), DateTime.UtcNow.AddSeconds(5));
        registry.Rescan();
        Assert.Equal(3, registry.Adapters["a"].Rank);
        Assert.True(first.IsReleased);
    }

    [Fact]
    public async Task Runs_leasing_an_adapter_while_its_file_is_replaced_never_find_it_missing()
    {
        Write("a", Lora(rank: 2));
        using var registry = new AdapterRegistry(_folder, Side, watch: false);
        using var stop = new CancellationTokenSource();
        var leases = 0;
        var reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var lease = registry.Acquire("a"); // throws AdapterNotFoundException if a swap exposes a gap
                Interlocked.Increment(ref leases);
            }
        });
        SpinWait.SpinUntil(() => Volatile.Read(ref leases) > 0 || reader.IsCompleted, TimeSpan.FromSeconds(10));
        for (var version = 0; version < 40; version++)
        {
            Write("a", Lora(rank: 2 + version % 3));
            File.SetLastWriteTimeUtc(Path.Combine(_folder, "a" + OrtAdapterFile.Extension), DateTime.UtcNow.AddSeconds(version + 1));
            registry.Rescan();
        }
        stop.Cancel();
        await reader;
        output.WriteLine($"{leases} leases across 40 replacements");
        Assert.True(leases > 0);
    }

    [Theory]
    [InlineData("wrong-base", "shape mismatch at encoder.layer.0.attention.self.query")]
    [InlineData("rank-too-high", "rank 5, above this bundle's limit of 4")]
    [InlineData("unknown-module", "matches no adapter input")]
    [InlineData("not-an-adapter", "is not an ONNX Runtime adapter")]
    [InlineData("labels", "shape mismatch at classifier.weight")]
    public void Bad_files_are_refused_with_the_reason_and_the_others_keep_serving(string kind, string expected)
    {
        Write("good", Lora(rank: 2));
        var path = Path.Combine(_folder, kind + OrtAdapterFile.Extension);
        switch (kind)
        {
            case "wrong-base": Write(kind, Lora(rank: 2, inFeatures: 16)); break;
            case "rank-too-high": Write(kind, Lora(rank: 5)); break;
            case "unknown-module": Write(kind, new OrtAdapterFile([Float("encoder.layer.9.attention.self.query.lora_A", In, 2)])); break;
            case "not-an-adapter": File.WriteAllText(path, "this is not a flatbuffer"); break;
            case "labels": Write(kind, new OrtAdapterFile([.. Lora(rank: 2).Parameters.SkipLast(1), Float("classifier.weight", 5, Out)])); break;
        }
        using var registry = new AdapterRegistry(_folder, Side, watch: false);
        Assert.Equal(["good"], registry.Adapters.Keys);
        output.WriteLine(registry.Errors[kind]);
        Assert.Contains(expected, registry.Errors[kind], StringComparison.Ordinal);
        var error = Assert.Throws<AdapterNotFoundException>(() => registry.Acquire(kind));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        using var lease = registry.Acquire("good");
        Assert.False(lease.Adapter.IsReleased);
    }

    [Fact]
    public void The_watcher_loads_a_new_file_without_a_rescan_call()
    {
        using var registry = new AdapterRegistry(_folder, Side, watch: true);
        Assert.Empty(registry.Adapters);
        Lora(rank: 1).Save(Path.Combine(_folder, "late" + OrtAdapterFile.Extension));
        Assert.True(SpinWait.SpinUntil(() => registry.Adapters.ContainsKey("late"), TimeSpan.FromSeconds(10)), "the new file was not picked up within 10 s");
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private void Write(string name, OrtAdapterFile file) => file.Save(Path.Combine(_folder, name + OrtAdapterFile.Extension));

    private static OrtAdapterFile Lora(int rank, int inFeatures = In) => new(
    [
        .. Side.Lora.SelectMany(slot => new[] { Float(slot.AInput, inFeatures, rank), Float(slot.BInput, rank, Out) }),
        Float("classifier.weight", 3, Out),
    ]);

    private static OrtAdapterParameter Float(string name, long rows, long cols) =>
        OrtAdapterParameter.FromFloat32(name, [.. Enumerable.Range(0, (int)(rows * cols)).Select(i => i * 0.01f)], rows, cols);
}
