using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Lora;
using PeftOnnx.Core.SafeTensors;
using PeftOnnx.Onnx.Modules;
using PeftOnnx.Onnx.Tests.Commands;
using PeftOnnx.Onnx.Tests.Export;
using Xunit.Abstractions;

namespace PeftOnnx.Onnx.Tests.Arithmetic;

/// <summary>`peftonnx-export to-lora` on a fine-tuned transformers folder and on adapters; bad input refused, nothing written.</summary>
public sealed class ToLoraCommandTests(ITestOutputHelper output) : IDisposable
{
    private const string Query1 = "encoder.layer.1.attention.self.query";
    private readonly TempFolder _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private (int Code, string Stdout, string Stderr) ToLora(params string[] args)
    {
        var result = CliRunner.Invoke(["to-lora", "--base", AdapterFixtures.BaseModelDirectory, .. args]);
        output.WriteLine($"exit {result.Code}\n{result.Stdout}{result.Stderr}");
        return result;
    }

    /// <summary>
    /// A fine-tuned folder as `train --method full` writes it (bert.* and classifier.* in model.safetensors, config.json),
    /// made here from the base: a rank-2 change u1·v1ᵀ + u2·v2ᵀ (values i/97 mod 1 - 0.5) of one query weight and a
    /// LayerNorm shift of 0.01, every other parameter unchanged.
    /// </summary>
    private string FineTuned(IReadOnlyDictionary<string, (float[] Data, long[] Shape)> baseState, out double[] delta)
    {
        var folder = _tmp.Combine("full-ft");
        Directory.CreateDirectory(folder);
        delta = new double[384 * 384];
        var tensors = new List<SafeTensor>();
        foreach (var (key, (data, shape)) in baseState)
        {
            var values = (float[])data.Clone();
            if (key == Query1 + ".weight")
            {
                for (var o = 0; o < 384; o++)
                {
                    for (var i = 0; i < 384; i++)
                    {
                        var change = (0.01 * Wave(o) * Wave(i + 1)) + (0.004 * Wave(o + 7) * Wave(i + 13));
                        values[(o * 384) + i] += (float)change;
                        delta[(o * 384) + i] = values[(o * 384) + i] - (double)data[(o * 384) + i];
                    }
                }
            }
            if (key == "encoder.layer.2.output.LayerNorm.weight")
            {
                for (var i = 0; i < values.Length; i++)
                    values[i] += 0.01f;
            }
            tensors.Add(SafeTensor.FromFloat32("bert." + key, values, shape));
        }
        tensors.Add(SafeTensor.FromFloat32("classifier.weight", [.. Enumerable.Range(0, 3 * 384).Select(i => (float)Wave(i))], 3, 384));
        tensors.Add(SafeTensor.FromFloat32("classifier.bias", [0.1f, -0.2f, 0.3f], 3));
        SafeTensorWriter.Write(Path.Combine(folder, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        File.WriteAllText(Path.Combine(folder, "config.json"), """{"architectures": ["BertForSequenceClassification"], "id2label": {"0": "a", "1": "b", "2": "c"}}""");
        File.WriteAllText(Path.Combine(folder, "training.json"), """{"method": "full", "labels": ["a", "b", "c"], "pooling": "pooler"}""");
        return folder;

        static double Wave(int i) => ((i / 97.0) % 1.0) - 0.5;
    }

    [Fact]
    public void A_full_fine_tunes_linear_change_becomes_lora_and_the_layernorm_change_is_reported_dropped()
    {
        var baseState = HfStateDict.FromOnnx(Path.Combine(AdapterFixtures.BaseModelDirectory, "model.onnx"));
        var folder = FineTuned(baseState, out var delta);
        var target = _tmp.Combine("lora");

        var (code, stdout, stderr) = ToLora("--adapter", folder, "--rank", "2", "-o", target);

        Assert.Equal(0, code);
        Assert.Contains("dropped LayerNorm: 1 tensors, 384 values", stderr, StringComparison.Ordinal);
        Assert.Contains("total: 1 modules, energy kept 100.00 %", stdout, StringComparison.Ordinal);
        var adapter = PeftAdapter.Load(target);
        var config = Assert.IsType<LoraConfig>(adapter.Config);
        Assert.Equal([Query1], config.TargetModules!.Names);
        Assert.Equal(("SEQ_CLS", 2, 2.0), (config.TaskType, config.R, config.LoraAlpha));
        var lora = new LoraAdapterMerge(adapter, config)[Query1];
        var extracted = LoraDelta.Compute(lora.A, lora.B, config.ScaleFor(Query1)).Data;
        var diff = extracted.Zip(delta, (x, d) => Math.Abs(x - d)).Max();
        output.WriteLine($"rank-2 change: max |B·A - ΔW| = {diff:E2} (float32 factors; ΔW up to {delta.Max(Math.Abs):E2})");
        Assert.True(diff < 1e-6, $"extracted delta differs by {diff}");
        Assert.Equal([0.1, -0.2, 0.3], adapter.Get("base_model.model.classifier.bias").Data.Select(v => Math.Round(v, 6)));
        Assert.Contains("\"labels\"", File.ReadAllText(Path.Combine(target, "training.json")), StringComparison.Ordinal);
    }

    public static TheoryData<string, string[], string> BadInputs() => new()
    {
        { "rank zero", ["--adapter", AdapterFixtures.Golden("lora_qv_r8"), "--rank", "0"], "--rank should be positive, got 0" },
        { "rank above min dim", ["--adapter", AdapterFixtures.Golden("lora_qv_r8"), "--rank", "385"], "--rank 385 exceeds min(out, in) = 384" },
        { "not mergeable", ["--adapter", AdapterFixtures.Golden("seqcls_prompt_tuning_10"), "--rank", "8"], "cannot be merged" },
        { "missing folder", ["--adapter", "no-such-adapter", "--rank", "8"], "--adapter no-such-adapter does not exist" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_is_refused_and_nothing_is_written(string why, string[] args, string message)
    {
        var target = _tmp.Combine("lora");
        var (code, _, stderr) = ToLora([.. args, "-o", target]);
        Assert.True(code == 1, why);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(_tmp.Path));
    }
}
