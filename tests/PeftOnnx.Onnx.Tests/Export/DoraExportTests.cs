using Google.Protobuf;
using PeftOnnx.Core.SafeTensors;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Onnx.Modules;
using Xunit.Abstractions;

namespace PeftOnnx.Onnx.Tests.Export;

/// <summary>
/// DoRA has no shared golden: a seeded random adapter (<see cref="AdapterFixtures.WriteRandomDora"/>) is exported and
/// checked against PEFT's definition computed here, independently of the exporter: V = W + s·B·A,
/// W' = (m / ‖V[o, :]‖)·V, bias unchanged.
/// </summary>
public sealed class DoraExportTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void Dora_merge_matches_peft_definition_in_weights_and_outputs()
    {
        var baseState = HfStateDict.FromModel(MiniLm.Model);
        var adapterDir = _tmp.Combine("dora");
        AdapterFixtures.WriteRandomDora(adapterDir, baseState);
        var bundle = new BundleExporter().Export(new BundleExportOptions
        {
            BaseDirectory = AdapterFixtures.BaseModelDirectory,
            AdapterDirectory = adapterDir,
            OutputDirectory = _tmp.Combine("bundle"),
        });
        Assert.Equal(12, bundle.MergedModules.Count);

        var expected = ExpectedWeights(adapterDir, baseState);
        var mergedModel = OnnxModelFile.Load(Path.Combine(bundle.Directory, "model.onnx"));
        var mergedState = HfStateDict.FromModel(mergedModel);
        var weightDiff = expected.Max(e => GoldenReference.MaxAbsDiff(mergedState[e.Key].Data, e.Value));
        output.WriteLine($"DoRA: max |exported W' - (m/‖V‖)·V| over 12 modules = {weightDiff:E2}");
        Assert.True(weightDiff <= 1e-6, $"merged weights differ by {weightDiff:E3}");
        Assert.Equal(baseState["encoder.layer.0.attention.self.query.bias"].Data, mergedState["encoder.layer.0.attention.self.query.bias"].Data);

        // The whole model: merged bundle vs the base model with the independently computed weights swapped in.
        var reference = MiniLm.Clone();
        var map = ModuleMap.Build(reference);
        foreach (var (key, weight) in expected)
        {
            var linear = map[key[..^".weight".Length]];
            var stored = linear.Layout == WeightLayout.InOut ? HfStateDict.Transpose(weight, linear.OutFeatures, linear.InFeatures) : weight;
            var index = reference.Graph.Initializer.Select((t, i) => (t, i)).Single(p => p.t.Name == linear.WeightInitializer).i;
            reference.Graph.Initializer[index] = TensorData.FromFloat32(linear.WeightInitializer, stored, [.. reference.Graph.Initializer[index].Dims]);
        }
        var inputs = GoldenReference.Load("lora_qv_r8");
        var merged = OrtRunner.Run(Path.Combine(bundle.Directory, "model.onnx"), inputs, "last_hidden_state")["last_hidden_state"];
        var independent = OrtRunner.Run(reference.ToByteArray(), inputs, "last_hidden_state")["last_hidden_state"];
        var baseline = OrtRunner.Run(MiniLm.ModelPath, inputs, "last_hidden_state")["last_hidden_state"];
        var outputDiff = GoldenReference.MaxAbsDiff(merged, independent);
        var baseDiff = GoldenReference.MaxAbsDiff(merged, baseline);
        output.WriteLine($"DoRA: max |merged - independent reference| on last_hidden_state = {outputDiff:E2}; |merged - base| = {baseDiff:E2}");
        Assert.True(outputDiff <= 1e-4, $"outputs differ by {outputDiff:E3}");
        Assert.True(baseDiff > 1e-3, $"DoRA merge left the model unchanged ({baseDiff:E3})");
    }

    /// <summary>PEFT's DoRA merge written out with plain loops over the adapter file (no PeftOnnx adapter code).</summary>
    private static Dictionary<string, float[]> ExpectedWeights(string adapterDir, IReadOnlyDictionary<string, (float[] Data, long[] Shape)> baseState)
    {
        const double scale = AdapterFixtures.DoraAlpha / AdapterFixtures.DoraRank;
        using var f = SafeTensorFile.Open(Path.Combine(adapterDir, "adapter_model.safetensors"));
        var result = new Dictionary<string, float[]>();
        foreach (var aName in f.Tensors.Select(t => t.Name).Where(n => n.EndsWith(".lora_A.weight", StringComparison.Ordinal)))
        {
            var module = aName["base_model.model.".Length..^".lora_A.weight".Length];
            var a = f.ReadFloat32(aName);
            var b = f.ReadFloat32($"base_model.model.{module}.lora_B.weight");
            var m = f.ReadFloat32($"base_model.model.{module}.lora_magnitude_vector");
            var (w, shape) = baseState[module + ".weight"];
            int rows = (int)shape[0], cols = (int)shape[1], r = (int)f[aName].Shape[0];
            var merged = new float[rows * cols];
            var v = new double[cols];
            for (var o = 0; o < rows; o++)
            {
                var norm2 = 0.0;
                for (var i = 0; i < cols; i++)
                {
                    var delta = 0.0;
                    for (var k = 0; k < r; k++)
                        delta += (double)b[(o * r) + k] * a[(k * cols) + i];
                    v[i] = w[(o * cols) + i] + (scale * delta);
                    norm2 += v[i] * v[i];
                }
                var factor = m[o] / Math.Sqrt(norm2);
                for (var i = 0; i < cols; i++)
                    merged[(o * cols) + i] = (float)(factor * v[i]);
            }
            result[module + ".weight"] = merged;
        }
        return result;
    }
}
