using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.OrtAdapters;

namespace PeftOnnx.Onnx.Side;

/// <summary>
/// A method's side-graph form: it adds the method's adapter inputs to the base graph, and turns an adapter folder into
/// values for them. Methods that only merge have none (their merge is Core's <see cref="IAdapterMerge"/>). Each method's
/// folder under Methods/ implements one; <see cref="SideGraphMethods"/> lists them.
/// </summary>
public interface ISideGraphMethod
{
    /// <summary>The peft_type it serves (its Core registration's).</summary>
    string PeftType { get; }

    /// <summary>Whether rows of one batch may use different adapters (the mixed form).</summary>
    bool MixedBatches { get; }

    /// <summary>Adds the adapter inputs to <see cref="SideGraphRequest.Model"/>; the exporter adds the base identity and the head slots.</summary>
    SideGraphManifest Build(SideGraphRequest request);

    /// <summary>The adapter's values for the method's inputs of <paramref name="side"/> (the classifier is added by the caller); <paramref name="baseWeights"/> for methods whose values depend on the base.</summary>
    IEnumerable<OrtAdapterParameter> Parameters(PeftAdapter adapter, SideGraphManifest side, SideBaseWeights baseWeights);
}
