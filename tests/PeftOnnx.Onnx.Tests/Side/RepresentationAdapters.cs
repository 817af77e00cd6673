using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.GatedPrompt;
using PeftOnnx.Core.Adapters.LoReft;
using PeftOnnx.Core.SafeTensors;
using static PeftOnnx.Onnx.Tests.Side.SideBundles;

namespace PeftOnnx.Onnx.Tests.Side;

/// <summary>
/// LoReFT and gated-prompt adapters for MiniLM-L6 (6 layers, hidden 384, 12 heads) with seeded random values and the
/// classifier of the seqcls_lora_qv_r8 golden. PEFT has neither method, so there is no golden; these exercise the
/// export (the trainer's forward is their reference in PeftOnnx.Training.Tests' RepresentationSideParityTests).
/// </summary>
internal static class RepresentationAdapters
{
    private const int Layers = 6;
    private const int Hidden = 384;
    private const int Heads = 12;

    /// <summary>LoReFT untied, rank 2, first 2 and last 2 real tokens, every layer (the last one included); R has orthonormal rows.</summary>
    public static string LoReft(string directory, int seed)
    {
        const int rank = 2;
        var random = new Random(seed);
        var keys = new PeftKeys("SEQ_CLS");
        var tensors = new List<SafeTensor>();
        for (var layer = 0; layer < Layers; layer++)
        {
            for (var unit = 0; unit < 2; unit++)
            {
                var module = LoReftConfig.UnitModule(layer, unit);
                tensors.Add(SafeTensor.FromFloat32(keys.EncoderParameter(module, LoReftConfig.Projection), Orthonormal(random, rank, Hidden), rank, Hidden));
                tensors.Add(SafeTensor.FromFloat32(keys.EncoderParameter(module, LoReftConfig.SourceWeight), Uniform(random, rank * Hidden, 0.1f), rank, Hidden));
                tensors.Add(SafeTensor.FromFloat32(keys.EncoderParameter(module, LoReftConfig.SourceBias), Uniform(random, rank, 0.5f), rank));
            }
        }
        var config = new LoReftConfig { R = rank, PrefixPositions = 2, SuffixPositions = 2, TaskType = "SEQ_CLS", ModulesToSave = ["classifier"] };
        PeftAdapterWriter.Write(directory, config, [.. tensors, .. Classifier()]);
        return directory;
    }

    /// <summary>Gated prompts: 4 prompt rows in the top 3 layers, gates open (random per head).</summary>
    public static string GatedPrompt(string directory, int seed)
    {
        const int length = 4;
        var random = new Random(seed);
        var keys = new PeftKeys("SEQ_CLS");
        var tensors = new List<SafeTensor>();
        for (var layer = Layers - 3; layer < Layers; layer++)
        {
            var module = GatedPromptConfig.PromptModule(layer);
            tensors.Add(SafeTensor.FromFloat32(keys.EncoderParameter(module, GatedPromptConfig.Prompt), Uniform(random, length * Hidden, 1f), length, Hidden));
            tensors.Add(SafeTensor.FromFloat32(keys.EncoderParameter(module, GatedPromptConfig.Gate), Uniform(random, Heads, 0.5f), Heads));
        }
        var config = new GatedPromptConfig { AdapterLen = length, AdapterLayers = 3, TaskType = "SEQ_CLS", ModulesToSave = ["classifier"] };
        PeftAdapterWriter.Write(directory, config, [.. tensors, .. Classifier()]);
        return directory;
    }

    private static IEnumerable<SafeTensor> Classifier()
    {
        using var file = SafeTensorFile.Open(Path.Combine(Adapter("seqcls_lora_qv_r8"), PeftAdapter.WeightsFileName));
        return [.. file.Tensors.Where(t => t.Name.StartsWith(PeftKeys.SavedModule("classifier", ""), StringComparison.Ordinal))
            .Select(t => SafeTensor.FromFloat32(t.Name, file.ReadFloat32(t.Name), t.Shape))];
    }

    private static float[] Uniform(Random random, int count, float scale) =>
        [.. Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1) * scale)];

    /// <summary>[rows, columns] with orthonormal rows (Gram-Schmidt in float64).</summary>
    private static float[] Orthonormal(Random random, int rows, int columns)
    {
        var r = new double[rows][];
        for (var i = 0; i < rows; i++)
        {
            var v = Enumerable.Range(0, columns).Select(_ => (random.NextDouble() * 2) - 1).ToArray();
            for (var j = 0; j < i; j++)
            {
                var dot = v.Zip(r[j], (a, b) => a * b).Sum();
                for (var k = 0; k < columns; k++)
                    v[k] -= dot * r[j][k];
            }
            var norm = Math.Sqrt(v.Sum(x => x * x));
            r[i] = [.. v.Select(x => x / norm)];
        }
        return [.. r.SelectMany(row => row.Select(x => (float)x))];
    }
}
