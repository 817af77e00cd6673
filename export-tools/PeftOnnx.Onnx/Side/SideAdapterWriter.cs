using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.OrtAdapters;
using PeftOnnx.Onnx.Passes;

namespace PeftOnnx.Onnx.Side;

/// <summary>
/// A PEFT adapter folder as an ONNX Runtime adapter for a side-graph bundle: the method's own inputs (its
/// <see cref="ISideGraphMethod"/>: LoRA factors, prompt and prefix tables, bottleneck weights) plus the classifier as
/// saved. The result is checked against the bundle's side.json, so a file that would not bind is never written.
/// </summary>
public static class SideAdapterWriter
{
    /// <param name="adapter">The adapter folder's contents.</param>
    /// <param name="side">The bundle's side.json.</param>
    /// <param name="baseWeights">The bundle's base weights, for methods whose values depend on them (gated prompts).</param>
    public static OrtAdapterFile Convert(PeftAdapter adapter, SideGraphManifest side, SideBaseWeights baseWeights)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        ArgumentNullException.ThrowIfNull(side);
        if (!side.PeftTypes.Contains(adapter.Config.PeftType))
            throw new InvalidDataException($"{adapter.Directory} is a {adapter.Config.PeftType} adapter; this side graph serves {string.Join(" and ", side.PeftTypes)} adapters.");
        var parameters = new List<OrtAdapterParameter>();
        parameters.AddRange(SideGraphMethods.For(adapter.Config.PeftType, mixed: false).Parameters(adapter, side, baseWeights));
        parameters.AddRange(Head(adapter, side));
        var file = new OrtAdapterFile(parameters, modelVersion: side.BaseIdentity().Fingerprint);
        SideAdapterCheck.Validate(side, file, adapter.Directory);
        return file;
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
