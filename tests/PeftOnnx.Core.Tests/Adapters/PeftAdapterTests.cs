using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Ia3;
using PeftOnnx.Core.Adapters.Lora;
using PeftOnnx.Core.Numerics;
using PeftOnnx.Core.SafeTensors;
using PeftOnnx.Tests;

namespace PeftOnnx.Core.Tests.Adapters;

public sealed class PeftAdapterTests : IDisposable
{
    private const string Query = "encoder.layer.0.attention.self.query";
    private readonly string _dir = Directory.CreateTempSubdirectory("peft-adapter-test").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static PeftAdapter Golden(string name) => PeftAdapter.Load(TestPaths.Fixture("peft", name));

    private static Matrix64 Random(int rows, int cols, int seed)
    {
        var rng = new Random(seed);
        var m = new Matrix64(rows, cols);
        for (var i = 0; i < m.Data.Length; i++)
            m.Data[i] = (rng.NextDouble() * 2) - 1;
        return m;
    }

    private static SafeTensor Tensor(string name, Matrix64 m) => SafeTensor.FromFloat32(name, m.ToFloat32(), m.Rows, m.Cols);

    [Fact]
    public void Loads_golden_lora_and_knows_its_modules()
    {
        var adapter = Golden("lora_qv_r8");
        Assert.Equal(64, adapter.WeightsSha256.Length);
        Assert.Equal("LORA", (string?)adapter.RawConfig["peft_type"]);
        var merge = AdapterMerge.For(adapter);
        Assert.Equal(12, merge.Modules.Count);
        Assert.Contains("encoder.layer.5.attention.self.value", merge.Modules);
        Assert.Empty(merge.Replacements);
    }

    [Fact]
    public void Golden_lora_merge_is_W_plus_two_B_A()
    {
        var adapter = Golden("lora_qv_r8");
        var merge = (LoraAdapterMerge)AdapterMerge.For(adapter);
        var w = Random(384, 384, seed: 1);
        double[] bias = [.. Enumerable.Range(0, 384).Select(i => i * 0.01)];
        var merged = merge.Merge(Query, w, bias);

        var a = adapter.Get(adapter.Keys.LoraA(Query)).AsMatrix();
        var b = adapter.Get(adapter.Keys.LoraB(Query)).AsMatrix();
        // Independent check of one element: W'[o, i] = W[o, i] + 2 * sum_k B[o, k] A[k, i].
        const int o = 17, i = 300;
        var expected = w[o, i] + (2 * Enumerable.Range(0, 8).Sum(k => b[o, k] * a[k, i]));
        Assert.Equal(expected, merged.Weight[o, i], 12);
        Assert.Equal(bias, merged.Bias);
        Assert.NotEqual(w[o, i], merged.Weight[o, i]);
    }

    [Fact]
    public void Seqcls_adapter_exposes_the_classifier_as_a_head_tensor()
    {
        var adapter = Golden("seqcls_lora_qv_r8");
        var classifier = adapter.Get("base_model.model.classifier.weight");
        Assert.False(classifier.Key.InEncoder);
        Assert.Equal(new long[] { 12, 384 }, classifier.Shape);
        Assert.Contains(Query, AdapterMerge.For(adapter).Modules);
    }

    [Fact]
    public void Golden_ia3_scales_key_output_and_output_dense_input()
    {
        var adapter = Golden("ia3_kv_ff");
        var merge = Assert.IsType<Ia3AdapterMerge>(AdapterMerge.For(adapter));
        Assert.Equal(24, merge.Modules.Count); // 6 layers x (key, value, attention.output.dense, output.dense)
        var w = Random(384, 1536, seed: 2);
        double[] bias = [.. Enumerable.Repeat(1.0, 384)];
        var merged = merge.Merge("encoder.layer.2.output.dense", w, bias);
        var l = adapter.Get(adapter.Keys.Ia3("encoder.layer.2.output.dense"));
        Assert.Equal(new long[] { 1, 1536 }, l.Shape);
        Assert.Equal(w[3, 1000] * l.Data[1000], merged.Weight[3, 1000], 12);
        Assert.Equal(bias, merged.Bias);
    }

    [Fact]
    public void Prompt_tuning_is_loaded_but_not_mergeable()
    {
        var adapter = Golden("seqcls_prompt_tuning_10");
        var e = Assert.Throws<NotSupportedException>(() => AdapterMerge.For(adapter));
        Assert.Contains("PROMPT_TUNING", e.Message);
        Assert.Contains("LORA", e.Message);
    }

    [Fact]
    public void Pickled_bin_is_refused_without_reading_it()
    {
        var dir = Directory.CreateDirectory(Path.Combine(_dir, "pickled")).FullName;
        File.Copy(TestPaths.Fixture("peft", "lora_qv_r8", PeftAdapterConfig.FileName), Path.Combine(dir, PeftAdapterConfig.FileName));
        File.WriteAllBytes(Path.Combine(dir, PeftAdapter.PickleFileName), [0x80, 0x02, 0x63, 0x6f, 0x73]); // a pickle stream header
        var e = Assert.Throws<InvalidDataException>(() => PeftAdapter.Load(dir));
        Assert.Contains("adapter_model.bin", e.Message);
        Assert.Contains("safetensors", e.Message);
        Assert.Contains("never unpickles", e.Message);
    }

    [Fact]
    public void Missing_folder_and_missing_weights_are_named()
    {
        var missing = Path.Combine(_dir, "nope");
        Assert.Contains(missing, Assert.Throws<DirectoryNotFoundException>(() => PeftAdapter.Load(missing)).Message);
        var empty = Directory.CreateDirectory(Path.Combine(_dir, "empty")).FullName;
        Assert.Contains("adapter_model.safetensors", Assert.Throws<FileNotFoundException>(() => PeftAdapter.Load(empty)).Message);
    }

    [Fact]
    public void Truncated_weights_file_is_refused()
    {
        var dir = Path.Combine(_dir, "truncated");
        var keys = new PeftKeys(null);
        PeftAdapterWriter.Write(dir, new LoraConfig { R = 2, TargetModules = TargetModules.FromNames("query") },
            [Tensor(keys.LoraA(Query), Random(2, 4, 3)), Tensor(keys.LoraB(Query), Random(4, 2, 4))]);
        var path = Path.Combine(dir, PeftAdapter.WeightsFileName);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^10]);
        var e = Assert.Throws<InvalidDataException>(() => PeftAdapter.Load(dir));
        Assert.Contains(PeftAdapter.WeightsFileName, e.Message);
    }

    [Fact]
    public void NaN_in_lora_weights_names_the_tensor()
    {
        var dir = Path.Combine(_dir, "nan");
        var keys = new PeftKeys(null);
        var a = Random(2, 4, 5);
        a[1, 2] = double.NaN;
        PeftAdapterWriter.Write(dir, new LoraConfig { R = 2, TargetModules = TargetModules.FromNames("query") },
            [Tensor(keys.LoraA(Query), a), Tensor(keys.LoraB(Query), Random(4, 2, 6))]);
        var e = Assert.Throws<InvalidDataException>(() => AdapterMerge.For(PeftAdapter.Load(dir)));
        Assert.Contains(keys.LoraA(Query), e.Message);
        Assert.Contains("NaN", e.Message);
    }

    [Fact]
    public void Non_finite_merge_result_names_the_module()
    {
        // DoRA divides by the row norm of W + s·B·A: a zero row (here W = 0 and a fresh, zero lora_B) gives 0/0.
        var dir = Path.Combine(_dir, "zero-norm");
        var keys = new PeftKeys(null);
        PeftAdapterWriter.Write(dir, new LoraConfig { R = 2, UseDora = true, TargetModules = TargetModules.FromNames("query") },
            [Tensor(keys.LoraA(Query), Random(2, 4, 12)), Tensor(keys.LoraB(Query), new Matrix64(4, 2)), SafeTensor.FromFloat32(keys.LoraMagnitude(Query), [1, 1, 1, 1], 4)]);
        var merge = AdapterMerge.For(PeftAdapter.Load(dir));
        var e = Assert.Throws<InvalidDataException>(() => merge.Merge(Query, new Matrix64(4, 4), null));
        Assert.Contains($"merged weight of {Query}", e.Message);
        Assert.Contains("NaN", e.Message);
    }

    [Fact]
    public void Shape_mismatch_shows_both_shapes()
    {
        var merge = AdapterMerge.For(Golden("lora_qv_r8"));
        var e = Assert.Throws<InvalidDataException>(() => merge.Merge(Query, new Matrix64(768, 768), null));
        Assert.Contains("[384, 8]", e.Message);   // lora_B
        Assert.Contains("[768, 768]", e.Message); // base weight
        Assert.Contains(Query, e.Message);
    }

    [Fact]
    public void Dora_config_without_magnitude_is_refused()
    {
        var dir = Path.Combine(_dir, "dora-missing");
        var keys = new PeftKeys(null);
        PeftAdapterWriter.Write(dir, new LoraConfig { R = 2, UseDora = true, TargetModules = TargetModules.FromNames("query") },
            [Tensor(keys.LoraA(Query), Random(2, 4, 7)), Tensor(keys.LoraB(Query), Random(4, 2, 8))]);
        var e = Assert.Throws<InvalidDataException>(() => AdapterMerge.For(PeftAdapter.Load(dir)));
        Assert.Contains(keys.LoraMagnitude(Query), e.Message);
    }

    [Fact]
    public void Written_dora_adapter_merges_with_the_magnitude()
    {
        var dir = Path.Combine(_dir, "dora");
        var keys = new PeftKeys("SEQ_CLS");
        var a = Random(2, 4, 9);
        var b = Random(4, 2, 10);
        double[] m = [1, 2, 3, 4];
        PeftAdapterWriter.Write(dir, new LoraConfig { R = 2, LoraAlpha = 4, UseDora = true, TargetModules = TargetModules.FromNames("query"), TaskType = "SEQ_CLS" },
            [Tensor(keys.LoraA(Query), a), Tensor(keys.LoraB(Query), b), SafeTensor.FromFloat32(keys.LoraMagnitude(Query), [1, 2, 3, 4], 4)]);
        Assert.Empty(Directory.GetDirectories(_dir, "dora.tmp-*"));

        var adapter = PeftAdapter.Load(dir);
        var w = Random(4, 4, 11);
        double[] bias = [0.5, 0.5, 0.5, 0.5];
        var merged = AdapterMerge.For(adapter).Merge(Query, w, bias);
        for (var o = 0; o < 4; o++)
        {
            // Each merged output row has norm m[o]; the bias is untouched.
            var norm = Math.Sqrt(Enumerable.Range(0, 4).Sum(i => merged.Weight[o, i] * merged.Weight[o, i]));
            Assert.Equal(m[o], norm, 6);
        }
        Assert.Equal(bias, merged.Bias);
    }
}
