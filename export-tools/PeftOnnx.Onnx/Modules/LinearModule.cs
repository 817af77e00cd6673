namespace PeftOnnx.Onnx.Modules;

/// <summary>
/// A torch Linear recovered from the graph, named as in the Hugging Face checkpoint
/// (e.g. encoder.layer.3.attention.self.query).
/// </summary>
/// <param name="Name">Hugging Face module name; its parameters are <c>Name.weight</c> and <c>Name.bias</c>.</param>
/// <param name="WeightInitializer">The initializer holding the weight (often numeric in torch exports, e.g. "927" or "onnx::MatMul_1234").</param>
/// <param name="Layout">How that initializer is laid out (torch's Linear weight is [out, in]).</param>
/// <param name="BiasInitializer">The bias initializer, or null for a Linear without bias.</param>
/// <param name="InFeatures">Input features (torch Linear in_features).</param>
/// <param name="OutFeatures">Output features (torch Linear out_features).</param>
/// <param name="ConsumerNodes">The MatMul/Gemm nodes that apply this weight (several when a weight is shared).</param>
/// <param name="TransposeNode">The Transpose node between the weight and its MatMul, when the export has one.</param>
public sealed record LinearModule(
    string Name,
    string WeightInitializer,
    WeightLayout Layout,
    string? BiasInitializer,
    int InFeatures,
    int OutFeatures,
    IReadOnlyList<string> ConsumerNodes,
    string? TransposeNode = null)
{
    /// <summary>Weight then bias element count.</summary>
    public long ParameterCount => (long)InFeatures * OutFeatures + (BiasInitializer is null ? 0 : OutFeatures);

    public string WeightKey => Name + ".weight";

    public string BiasKey => Name + ".bias";
}
