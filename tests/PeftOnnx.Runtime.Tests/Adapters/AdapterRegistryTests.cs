using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.OrtAdapters;
using PeftOnnx.Runtime.Adapters;
using PeftOnnx.Tests;
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
    public void The_default_is_the_requested_adapter_else_the_only_one_else_none()
    {
        using var registry = new AdapterRegistry(_folder, Side, watch: false);
        Assert.Null(registry.ChooseDefault(null));
        Write("a", Lora(rank: 2));
        registry.Rescan();
        Assert.Equal("a", registry.ChooseDefault(null));
        Write("b", Lora(rank: 4));
        registry.Rescan();
        Assert.Null(registry.ChooseDefault(null));
        Assert.Equal("b", registry.ChooseDefault("b"));
        var unknown = Assert.Throws<AdapterNotFoundException>(() => registry.ChooseDefault("c"));
        output.WriteLine(unknown.Message);
        Assert.Contains("serving a, b", unknown.Message, StringComparison.Ordinal);
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
    [InlineData("huge-dims", "[1099511627776, 1099511627776] (Float) has 64 bytes of data, expected more than the file holds")]
    [InlineData("truncated", "is a damaged ONNX Runtime adapter file")]
    [InlineData("fifo", "is not a regular file (a FIFO)")]
    [InlineData("nan", "parameter encoder.layer.0.attention.self.value.lora_B contains NaN at index 3")]
    [InlineData("overflow", "the LoRA update of encoder.layer.0.attention.self.query multiplies its input by up to")]
    public void Bad_files_are_refused_with_the_reason_and_the_others_keep_serving(string kind, string expected)
    {
        if (kind == "fifo" && !OperatingSystem.IsLinux())
            return;
        Write("good", Lora(rank: 2));
        var path = Path.Combine(_folder, kind + OrtAdapterFile.Extension);
        switch (kind)
        {
            case "huge-dims": File.WriteAllBytes(path, WithHugeDims(Lora(rank: 2).ToBytes())); break;
            case "truncated": File.WriteAllBytes(path, Lora(rank: 2).ToBytes()[..200]); break;
            case "fifo": SpecialFiles.Fifo(path); break;
            case "nan": Write(kind, With(Lora(rank: 2), "encoder.layer.0.attention.self.value.lora_B", 3, float.NaN)); break;
            case "overflow": Write(kind, With(Lora(rank: 2), "encoder.layer.0.attention.self.query.lora_B", 0, 3e38f)); break;
            case "wrong-base": Write(kind, Lora(rank: 2, inFeatures: 16)); break;
            case "rank-too-high": Write(kind, Lora(rank: 5)); break;
            case "unknown-module": Write(kind, new OrtAdapterFile([Float("encoder.layer.9.attention.self.query.lora_A", In, 2)])); break;
            case "not-an-adapter": File.WriteAllText(path, "this is not a flatbuffer"); break;
            case "labels": Write(kind, new OrtAdapterFile([.. Lora(rank: 2).Parameters.SkipLast(1), Float("classifier.weight", 5, Out)])); break;
        }
        using var registry = SpecialFiles.Promptly(() => new AdapterRegistry(_folder, Side, watch: false));
        Assert.Equal(["good"], registry.Adapters.Keys);
        output.WriteLine(registry.Errors[kind]);
        Assert.Contains(expected, registry.Errors[kind], StringComparison.Ordinal);
        var error = Assert.Throws<AdapterNotFoundException>(() => registry.Acquire(kind));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        using var lease = registry.Acquire("good");
        Assert.False(lease.Adapter.IsReleased);
    }

    [Fact]
    public void A_refused_file_is_not_read_again_until_it_changes()
    {
        var logger = new ListLogger();
        File.WriteAllText(Path.Combine(_folder, "bad" + OrtAdapterFile.Extension), "garbage");
        using var registry = new AdapterRegistry(_folder, Side, watch: false, logger);
        registry.Rescan();
        registry.Rescan();
        var warning = Assert.Single(logger.Messages, m => m.StartsWith("Warning", StringComparison.Ordinal));
        output.WriteLine(warning);
        Write("bad", Lora(rank: 2));
        File.SetLastWriteTimeUtc(Path.Combine(_folder, "bad" + OrtAdapterFile.Extension), DateTime.UtcNow.AddSeconds(5));
        Assert.Equal(["bad"], registry.Rescan());
        Assert.Empty(registry.Errors);
    }

    [Fact]
    public void Bad_files_dropped_into_a_watched_folder_never_stop_it()
    {
        Write("good", Lora(rank: 2));
        using var registry = new AdapterRegistry(_folder, Side, watch: true);
        File.WriteAllBytes(Path.Combine(_folder, "huge" + OrtAdapterFile.Extension), WithHugeDims(Lora(rank: 2).ToBytes()));
        if (OperatingSystem.IsLinux())
            SpecialFiles.Fifo(Path.Combine(_folder, "pipe" + OrtAdapterFile.Extension));
        Lora(rank: 1).Save(Path.Combine(_folder, "late" + OrtAdapterFile.Extension));
        Assert.True(SpinWait.SpinUntil(() => registry.Adapters.ContainsKey("late") && registry.Errors.ContainsKey("huge"), TimeSpan.FromSeconds(10)),
            "the watcher stopped after a bad file");
        Assert.Equal(["good", "late"], registry.Adapters.Keys.Order());
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

    private static OrtAdapterFile With(OrtAdapterFile file, string parameter, int index, float value) => new(
    [
        .. file.Parameters.Select(p =>
        {
            if (p.Name != parameter)
                return p;
            var values = p.ToFloat32();
            values[index] = value;
            return OrtAdapterParameter.FromFloat32(p.Name, values, p.Dims);
        }),
    ]);

    /// <summary>The first lora_A's dims [8, 2] rewritten to [2^40, 2^40] in the file's bytes, its data left as it was.</summary>
    private static byte[] WithHugeDims(byte[] bytes)
    {
        var dims = new byte[16];
        BitConverter.TryWriteBytes(dims.AsSpan(0, 8), (long)In);
        BitConverter.TryWriteBytes(dims.AsSpan(8, 8), 2L);
        var at = bytes.AsSpan().IndexOf(dims);
        Assert.True(at > 0);
        BitConverter.TryWriteBytes(bytes.AsSpan(at, 8), 1L << 40);
        BitConverter.TryWriteBytes(bytes.AsSpan(at + 8, 8), 1L << 40);
        return bytes;
    }

    private static OrtAdapterParameter Float(string name, long rows, long cols) =>
        OrtAdapterParameter.FromFloat32(name, [.. Enumerable.Range(0, (int)(rows * cols)).Select(i => i * 0.01f)], rows, cols);
}
