using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Adapters.Lora;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.OrtAdapters;
using PeftOnnx.Onnx.Passes;

namespace PeftOnnx.Onnx.Side;

/// <summary>
/// A PEFT adapter folder as an ONNX Runtime adapter for a side-graph bundle: LoRA A as [in, r] (lora_A transposed),
/// B as [r, out] with the module's scale folded in (s·lora_Bᵀ, computed in float64), the classifier as saved, prompt
/// and prefix tables and bottleneck weights under their graph input names. The result is checked against the
/// bundle's side.json, so a file that would not bind is never written.
/// </summary>
public static class SideAdapterWriter
{
    public static OrtAdapterFile Convert(PeftAdapter adapter, SideGraphManifest side)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        ArgumentNullException.ThrowIfNull(side);
        if (adapter.Config.PeftType != side.PeftType)
            throw new InvalidDataException($"{adapter.Directory} is a {adapter.Config.PeftType} adapter; this side graph serves {side.PeftType} adapters.");
        var parameters = new List<OrtAdapterParameter>();
        if (adapter.Config is LoraConfig lora)
            parameters.AddRange(Lora(adapter, lora));
        else
            parameters.AddRange(SideParameters.Collect(adapter, side));
        parameters.AddRange(Head(adapter, side));
        var file = new OrtAdapterFile(parameters, modelVersion: side.BaseIdentity().Fingerprint);
        SideAdapterCheck.Validate(side, file, adapter.Directory);
        return file;
    }

    private static IEnumerable<OrtAdapterParameter> Lora(PeftAdapter adapter, LoraConfig config)
    {
        if (config.UseDora)
            throw new NotSupportedException($"{adapter.Directory} is a DoRA adapter: its output normalisation depends on the merged weight, so it cannot run as an added LoRA branch; export it with --mode merged.");
        if (config.LoraBias)
            throw new NotSupportedException($"{adapter.Directory} sets lora_bias; side graphs carry no LoRA bias input; export it with --mode merged.");
        var baseTensors = adapter.Tensors.Where(t => t.Key.InEncoder && t.Key.Parameter is "weight" or "bias").Select(t => t.Name).ToList();
        if (baseTensors.Count > 0)
            throw new NotSupportedException($"{adapter.Directory} also changes base weights ({string.Join(", ", baseTensors.Take(3))}; bias=\"{config.Bias}\" or modules_to_save inside the encoder), which a side graph shares between adapters; export it with --mode merged.");
        foreach (var (module, weights) in LoraModuleWeights.Collect(adapter, config))
        {
            var scale = config.ScaleFor(module);
            var (r, inFeatures, outFeatures) = (weights.Rank, weights.A.Cols, weights.B.Rows);
            var a = new float[inFeatures * r];
            for (var k = 0; k < r; k++)
            {
                for (var i = 0; i < inFeatures; i++)
                    a[i * r + k] = (float)weights.A[k, i]; // lora_A [r, in] -> [in, r]
            }
            var b = new float[r * outFeatures];
            for (var o = 0; o < outFeatures; o++)
            {
                for (var k = 0; k < r; k++)
                    b[k * outFeatures + o] = (float)(scale * weights.B[o, k]); // lora_B [out, r] -> s * [r, out]
            }
            yield return OrtAdapterParameter.FromFloat32(LoraSidePass.AInput(module), a, inFeatures, r);
            yield return OrtAdapterParameter.FromFloat32(LoraSidePass.BInput(module), b, r, outFeatures);
        }
    }

    /// <summary>The classifier trained with the adapter, when the graph has a per-adapter head.</summary>
    private static IEnumerable<OrtAdapterParameter> Head(PeftAdapter adapter, SideGraphManifest side)
    {
        var slots = side.Parameters.Where(p => p.Name is AdapterHeadPass.WeightName or AdapterHeadPass.BiasName).ToList();
        var head = adapter.Tensors.Where(t => !t.Key.InEncoder && t.Key.Module == "classifier").ToList();
        if (slots.Count == 0)
        {
            if (head.Count > 0)
                throw new InvalidDataException($"{adapter.Directory} has a classifier but this side bundle is a feature-extraction graph; export a classification side bundle from a SEQ_CLS adapter.");
            yield break;
        }
        foreach (var slot in slots)
        {
            var parameter = slot.Name[(slot.Name.LastIndexOf('.') + 1)..];
            var tensor = head.FirstOrDefault(t => t.Key.Parameter == parameter)
                ?? throw new InvalidDataException($"{adapter.Directory} has no classifier.{parameter}, but this bundle gives every adapter its own classifier ({string.Join(", ", slot.Shape)}); train it with modules_to_save [\"classifier\"].");
            if (!tensor.Shape.SequenceEqual(slot.Shape))
                throw new InvalidDataException($"shape mismatch at {slot.Name}: {adapter.Directory} has {tensor.ShapeText}, the bundle takes [{string.Join(", ", slot.Shape)}] (labels, hidden); the adapter has another label set or base model.");
            FiniteValues.Require(tensor.Data, $"adapter tensor {tensor.Name}");
            yield return OrtAdapterParameter.FromFloat32(slot.Name, Array.ConvertAll(tensor.Data, v => (float)v), tensor.Shape);
        }
    }
}
