namespace PeftOnnx.Onnx.Modules;

/// <summary>A float initializer the export kept under its Hugging Face name (embeddings, LayerNorm, named Linear biases).</summary>
/// <param name="Key">The Hugging Face state-dict key, equal to the initializer name (e.g. embeddings.word_embeddings.weight).</param>
/// <param name="Shape">The initializer's shape, which is also the torch shape.</param>
public sealed record NamedParameter(string Key, long[] Shape)
{
    public long ElementCount => Shape.Aggregate(1L, (a, d) => a * d);
}
