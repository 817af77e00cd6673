using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Lora;
using PeftOnnx.Core.SafeTensors;
using PeftOnnx.Tests;

namespace PeftOnnx.Onnx.Tests.Export;

/// <summary>
/// Adapter folders made for tests. DoRA has no shared golden, so <see cref="WriteRandomDora"/> documents how its
/// fixture is made: PEFT's DoRA layout (r = 4, lora_alpha = 8, so s = 2; targets query and value of every layer),
/// lora_A and lora_B uniform in [-0.1, 0.1), and the magnitude initialised as PEFT does (‖W[o, :]‖, the row norm
/// of the base weight) then perturbed by up to ±20 % so that every parameter matters. Fixed seed: reproducible.
/// </summary>
internal static class AdapterFixtures
{
    public const int DoraRank = 4;
    public const double DoraAlpha = 8;

    public static string Golden(string caseName) => TestPaths.Fixture("peft", caseName);

    public static string BaseModelDirectory => TestModels.EnsurePulled("minilm-l6");

    public static LoraConfig DoraConfig => new()
    {
        R = DoraRank,
        LoraAlpha = DoraAlpha,
        UseDora = true,
        TargetModules = TargetModules.FromNames("query", "value"),
        PeftVersion = "0.21.0",
    };

    /// <param name="directory">Adapter folder to create.</param>
    /// <param name="baseState">The base model's torch-layout weights (HfStateDict), for the magnitude initialisation.</param>
    /// <param name="layers">Encoder layers of the base model.</param>
    /// <param name="seed">Random seed.</param>
    public static void WriteRandomDora(string directory, IReadOnlyDictionary<string, (float[] Data, long[] Shape)> baseState, int layers = 6, int seed = 20261126)
    {
        var rng = new Random(seed);
        var keys = new PeftKeys(taskType: null);
        var tensors = new List<SafeTensor>();
        foreach (var module in Enumerable.Range(0, layers).SelectMany(l => new[] { $"encoder.layer.{l}.attention.self.query", $"encoder.layer.{l}.attention.self.value" }))
        {
            var (w, shape) = baseState[module + ".weight"];
            int outFeatures = (int)shape[0], inFeatures = (int)shape[1];
            tensors.Add(SafeTensor.FromFloat32(keys.LoraA(module), Uniform(rng, DoraRank * inFeatures, 0.1), DoraRank, inFeatures));
            tensors.Add(SafeTensor.FromFloat32(keys.LoraB(module), Uniform(rng, outFeatures * DoraRank, 0.1), outFeatures, DoraRank));
            var magnitude = new float[outFeatures];
            for (var o = 0; o < outFeatures; o++)
            {
                var norm = Math.Sqrt(Enumerable.Range(0, inFeatures).Sum(i => (double)w[(o * inFeatures) + i] * w[(o * inFeatures) + i]));
                magnitude[o] = (float)(norm * (1 + (0.2 * ((rng.NextDouble() * 2) - 1))));
            }
            tensors.Add(SafeTensor.FromFloat32(keys.LoraMagnitude(module), magnitude, outFeatures));
        }
        PeftAdapterWriter.Write(directory, DoraConfig, tensors);
    }

    /// <summary>A LoRA adapter with one module and given A/B shapes (random values), for bad-input tests.</summary>
    public static void WriteLora(string directory, string module, long[] aShape, long[] bShape, int r = 8, Action<float[]>? corruptA = null)
    {
        var rng = new Random(7);
        var keys = new PeftKeys(taskType: null);
        var a = Uniform(rng, (int)(aShape[0] * aShape[1]), 0.1);
        corruptA?.Invoke(a);
        PeftAdapterWriter.Write(directory, new LoraConfig { R = r, LoraAlpha = 16, TargetModules = TargetModules.FromNames("query", "value") },
        [
            SafeTensor.FromFloat32(keys.LoraA(module), a, aShape),
            SafeTensor.FromFloat32(keys.LoraB(module), Uniform(rng, (int)(bShape[0] * bShape[1]), 0.1), bShape),
        ]);
    }

    /// <summary>Copies a golden adapter folder (config and weights) so a test can damage the copy.</summary>
    public static string CopyGolden(string caseName, string directory)
    {
        Directory.CreateDirectory(directory);
        foreach (var file in Directory.GetFiles(Golden(caseName), "adapter_*"))
            File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
        return directory;
    }

    private static float[] Uniform(Random rng, int count, double scale)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
            values[i] = (float)(((rng.NextDouble() * 2) - 1) * scale);
        return values;
    }
}
