using Microsoft.ML.OnnxRuntime;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.OrtAdapters;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Runtime.Adapters;
using Xunit.Abstractions;
using static PeftOnnx.Onnx.Tests.Side.SideBundles;

namespace PeftOnnx.Onnx.Tests.Side;

public sealed class LoraSideExportTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("lora_qv_r8", 1e-4)]
    [InlineData("lora_all_r16_rslora", 2e-4)]
    [InlineData("seqcls_lora_qv_r8", 1e-4)]
    public void Side_graph_with_the_adapter_matches_the_golden_and_the_merged_export(string golden, double tolerance)
    {
        using var temp = new TempFolder();
        var bundle = ExportSide(temp, SideGraphManifest.SideForm, golden);
        var merged = new BundleExporter().Export(new BundleExportOptions { BaseDirectory = BaseDirectory, AdapterDirectory = Adapter(golden), OutputDirectory = temp.Combine("merged") });
        var (inputs, expected, name) = Reference(golden);

        using var model = SideModel.Load(bundle, Cpu, watch: false);
        var side = model.Run(inputs, golden, name).Values;
        var mergedValues = RunPlain(Path.Combine(merged.Directory, "model.onnx"), inputs, name);
        var vsGolden = MaxAbsDiff(side, expected);
        var vsMerged = MaxAbsDiff(side, mergedValues);
        output.WriteLine($"{golden}: side vs golden {vsGolden:E2}, side vs merged {vsMerged:E2}");
        Assert.True(vsGolden <= tolerance, $"side vs golden {vsGolden:E2} > {tolerance:E0}");
        Assert.True(vsMerged <= 1e-4, $"side vs merged {vsMerged:E2} > 1e-4");
    }

    [Fact]
    public void Side_graph_without_an_adapter_is_the_base_model()
    {
        using var temp = new TempFolder();
        var bundle = ExportSide(temp, SideGraphManifest.SideForm, "lora_qv_r8");
        var (inputs, expected, name) = Reference("base_last_hidden_state");
        using var model = SideModel.Load(bundle, Cpu, watch: false);
        var diff = MaxAbsDiff(model.Run(inputs, null, name).Values, expected);
        var adapted = MaxAbsDiff(model.Run(inputs, "lora_qv_r8", name).Values, expected);
        output.WriteLine($"no adapter vs base golden {diff:E2}; with lora_qv_r8 vs base golden {adapted:E2}");
        Assert.True(diff <= 1e-4, $"{diff:E2}");
        Assert.True(adapted > 1e-2, "the adapter must change the output");
    }

    [Fact]
    public void Adapter_file_is_ONNX_Runtime_format_and_round_trips()
    {
        using var temp = new TempFolder();
        var bundle = ExportSide(temp, SideGraphManifest.SideForm, "lora_qv_r8");
        var path = Path.Combine(bundle, SideGraphManifest.AdapterFolder, "lora_qv_r8" + OrtAdapterFile.Extension);
        using (var native = OrtLoraAdapter.Create(path, null))
            Assert.NotNull(native);
        var file = OrtAdapterFile.Load(path);
        Assert.Equal(24, file.Parameters.Count); // 6 layers x (query, value) x (A, B)
        var a = file.Parameters.Single(p => p.Name == "encoder.layer.0.attention.self.query.lora_A");
        Assert.Equal(new long[] { 384, 8 }, a.Dims);
        Assert.Equal(file.ToBytes(), OrtAdapterFile.Parse(file.ToBytes(), "round trip").ToBytes());
        var bytes = File.ReadAllBytes(path);
        Assert.Equal("TORT", System.Text.Encoding.ASCII.GetString(bytes, 4, 4));
    }

    [Fact]
    public void Mixed_batch_rows_equal_per_adapter_runs()
    {
        using var temp = new TempFolder();
        var bundle = ExportSide(temp, SideGraphManifest.MixedForm, "lora_qv_r8", "lora_all_r16_rslora");
        var (inputs, _, name) = Reference("lora_qv_r8");
        using var model = SideModel.Load(bundle, Cpu, watch: false);
        string?[] rows = ["lora_qv_r8", "lora_all_r16_rslora", null, "lora_all_r16_rslora"];
        var mixed = model.RunMixed(inputs, rows, name).Values;
        var width = mixed.Length / inputs.BatchSize;
        double worst = 0;
        foreach (var adapter in rows.Distinct())
        {
            var single = model.Run(inputs, adapter, name).Values;
            for (var r = 0; r < rows.Length; r++)
            {
                if (rows[r] == adapter)
                    worst = Math.Max(worst, MaxAbsDiff(mixed.AsSpan(r * width, width), single.AsSpan(r * width, width)));
            }
        }
        var (_, golden, _) = Reference("lora_all_r16_rslora");
        var vsGolden = MaxAbsDiff(mixed.AsSpan(width, width), golden.AsSpan(width, width));
        output.WriteLine($"mixed vs per-adapter runs {worst:E2}; row 1 (rslora) vs its golden {vsGolden:E2}");
        Assert.True(worst <= 1e-4, $"{worst:E2}");
        Assert.True(vsGolden <= 2e-4, $"{vsGolden:E2}");
    }

    [Fact]
    public void Mixed_classifier_rows_use_their_own_heads()
    {
        using var temp = new TempFolder();
        var bundle = ExportSide(temp, SideGraphManifest.MixedForm, "seqcls_lora_qv_r8");
        var (inputs, expected, _) = Reference("seqcls_lora_qv_r8");
        using var model = SideModel.Load(bundle, Cpu, watch: false);
        var logits = model.RunMixed(inputs, [.. Enumerable.Repeat<string?>("seqcls_lora_qv_r8", inputs.BatchSize)]).Values;
        var diff = MaxAbsDiff(logits, expected);
        output.WriteLine($"mixed classifier vs golden logits {diff:E2}");
        Assert.True(diff <= 1e-4, $"{diff:E2}");
        Assert.Throws<ArgumentException>(() => model.RunMixed(inputs, [null, null, null, null]));
    }

    [Fact]
    public void Rank_above_the_limit_and_other_bases_are_refused_with_the_values()
    {
        using var temp = new TempFolder();
        var tooSmall = Assert.Throws<ArgumentException>(() => new SideBundleExporter().Export(new SideBundleOptions
        {
            BaseDirectory = BaseDirectory,
            AdapterDirectories = [Adapter("lora_qv_r8")],
            OutputDirectory = temp.Combine("small"),
            MaxRank = 4,
        }));
        Assert.Contains("--max-rank 4", tooSmall.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.Combine("small")));

        var bundle = ExportSide(temp, SideGraphManifest.SideForm, "lora_qv_r8");
        var wrongModules = Assert.Throws<InvalidDataException>(() => SideBundleExporter.WriteAdapter(bundle, Adapter("lora_all_r16_rslora")));
        output.WriteLine(wrongModules.Message);
        Assert.Contains("matches no adapter input", wrongModules.Message, StringComparison.Ordinal);
        var side = PeftJson.Load<SideGraphManifest>(Path.Combine(bundle, SideGraphManifest.FileName));
        Assert.Equal(12, side.Lora.Count);
    }
}
