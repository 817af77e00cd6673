using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using PeftOnnx.Onnx.Export;

namespace PeftOnnx.Onnx.Tests.Export;

/// <summary>Bad adapters and base models fail with a message that names the problem, and leave no bundle (or temp folder) behind.</summary>
public sealed class BadInputTests : IDisposable
{
    private const string Query = "encoder.layer.0.attention.self.query";
    private readonly TempFolder _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private string Out => _tmp.Combine("bundle");

    private TException ExportFails<TException>(string adapterDir, string? baseDir = null, IReadOnlyList<string>? labels = null)
        where TException : Exception
    {
        var e = Assert.Throws<TException>(() => new BundleExporter().Export(new BundleExportOptions
        {
            BaseDirectory = baseDir ?? AdapterFixtures.BaseModelDirectory,
            AdapterDirectory = adapterDir,
            OutputDirectory = Out,
            Labels = labels,
        }));
        Assert.False(Directory.Exists(Out), "a failed export left the bundle folder");
        Assert.Empty(Directory.GetDirectories(_tmp.Path, "bundle.tmp-*"));
        return e;
    }

    [Fact]
    public void Adapter_targeting_a_missing_layer_names_the_module()
    {
        var dir = _tmp.Combine("layer9");
        AdapterFixtures.WriteLora(dir, "encoder.layer.9.attention.self.query", [8, 384], [384, 8]);
        var e = ExportFails<InvalidDataException>(dir);
        Assert.Contains("encoder.layer.9.attention.self.query", e.Message);
        Assert.Contains("minilm-l6", e.Message);
        Assert.Contains("6 layers", e.Message);
    }

    [Fact]
    public void Shape_mismatch_shows_both_shapes()
    {
        var dir = _tmp.Combine("wide");
        AdapterFixtures.WriteLora(dir, Query, [8, 768], [768, 8]);
        var e = ExportFails<InvalidDataException>(dir);
        Assert.Contains(Query, e.Message);
        Assert.Contains("[768, 768]", e.Message); // the adapter's ΔW
        Assert.Contains("[384, 384]", e.Message); // the base weight
    }

    [Fact]
    public void Truncated_safetensors_is_refused()
    {
        var dir = AdapterFixtures.CopyGolden("lora_qv_r8", _tmp.Combine("truncated"));
        var weights = Path.Combine(dir, "adapter_model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length - 100)]);
        var e = ExportFails<InvalidDataException>(dir);
        Assert.Contains("adapter_model.safetensors", e.Message);
    }

    [Fact]
    public void Safetensors_header_that_lies_about_sizes_is_refused()
    {
        var dir = AdapterFixtures.CopyGolden("lora_qv_r8", _tmp.Combine("lying"));
        // A [2, 2] F32 tensor is 16 bytes; the header claims 64 and the file holds 16.
        var header = Encoding.UTF8.GetBytes("""{"base_model.model.encoder.layer.0.attention.self.query.lora_A.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,64]}}""");
        var file = new byte[8 + header.Length + 16];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file, 8);
        File.WriteAllBytes(Path.Combine(dir, "adapter_model.safetensors"), file);
        var e = ExportFails<InvalidDataException>(dir);
        Assert.Contains("adapter_model.safetensors", e.Message);
        Assert.Contains("lora_A.weight", e.Message);
    }

    [Fact]
    public void Unknown_peft_type_lists_the_supported_ones()
    {
        var dir = AdapterFixtures.CopyGolden("lora_qv_r8", _tmp.Combine("loha"));
        var configPath = Path.Combine(dir, "adapter_config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        config["peft_type"] = "LOHA";
        File.WriteAllText(configPath, config.ToJsonString());
        var e = ExportFails<InvalidDataException>(dir);
        Assert.Contains("LOHA", e.Message);
        Assert.Contains("LORA, IA3, PROMPT_TUNING, PREFIX_TUNING, BOTTLENECK", e.Message);
    }

    [Fact]
    public void NaN_in_adapter_weights_names_the_tensor()
    {
        var dir = _tmp.Combine("nan");
        AdapterFixtures.WriteLora(dir, Query, [8, 384], [384, 8], corruptA: a => a[1000] = float.NaN);
        var e = ExportFails<InvalidDataException>(dir);
        Assert.Contains($"base_model.model.{Query}.lora_A.weight", e.Message);
        Assert.Contains("NaN", e.Message);
    }

    [Fact]
    public void Corrupt_base_onnx_is_refused()
    {
        var baseDir = Directory.CreateDirectory(_tmp.Combine("broken-base")).FullName;
        File.Copy(Path.Combine(AdapterFixtures.BaseModelDirectory, "model.json"), Path.Combine(baseDir, "model.json"));
        File.Copy(Path.Combine(AdapterFixtures.BaseModelDirectory, "vocab.txt"), Path.Combine(baseDir, "vocab.txt"));
        using (var source = File.OpenRead(Path.Combine(AdapterFixtures.BaseModelDirectory, "model.onnx")))
        using (var truncated = File.Create(Path.Combine(baseDir, "model.onnx")))
        {
            var head = new byte[1 << 20];
            source.ReadExactly(head);
            truncated.Write(head);
        }
        var e = ExportFails<InvalidDataException>(AdapterFixtures.Golden("lora_qv_r8"), baseDir);
        Assert.Contains("model.onnx", e.Message);
    }

    [Fact]
    public void Pickled_adapter_is_refused_with_conversion_advice()
    {
        var dir = Directory.CreateDirectory(_tmp.Combine("pickled")).FullName;
        File.Copy(Path.Combine(AdapterFixtures.Golden("lora_qv_r8"), "adapter_config.json"), Path.Combine(dir, "adapter_config.json"));
        File.WriteAllBytes(Path.Combine(dir, "adapter_model.bin"), [0x80, 0x02, 0x7d, 0x71, 0x00]);
        var e = ExportFails<InvalidDataException>(dir);
        Assert.Contains("adapter_model.bin", e.Message);
        Assert.Contains("safe_serialization=True", e.Message);
    }

    [Fact]
    public void Prompt_tuning_cannot_be_merged()
    {
        var e = ExportFails<NotSupportedException>(AdapterFixtures.Golden("seqcls_prompt_tuning_10"));
        Assert.Contains("PROMPT_TUNING", e.Message);
    }

    [Fact]
    public void Label_count_must_match_the_classifier()
    {
        var e = ExportFails<ArgumentException>(AdapterFixtures.Golden("seqcls_lora_qv_r8"), labels: ["a", "b", "c"]);
        Assert.Contains("3 labels", e.Message);
        Assert.Contains("12 outputs", e.Message);
    }

    [Fact]
    public void Labels_without_a_classifier_are_refused()
    {
        var e = ExportFails<InvalidDataException>(AdapterFixtures.Golden("lora_qv_r8"), labels: ["a", "b"]);
        Assert.Contains("no classifier", e.Message);
    }

    [Fact]
    public void Existing_output_is_kept_without_force()
    {
        Directory.CreateDirectory(Out);
        File.WriteAllText(Path.Combine(Out, "keep.txt"), "mine");
        var e = Assert.Throws<IOException>(() => new BundleExporter().Export(new BundleExportOptions
        {
            BaseDirectory = AdapterFixtures.BaseModelDirectory,
            AdapterDirectory = AdapterFixtures.Golden("lora_qv_r8"),
            OutputDirectory = Out,
        }));
        Assert.Contains("--overwrite", e.Message);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(Out, "keep.txt")));
    }
}
