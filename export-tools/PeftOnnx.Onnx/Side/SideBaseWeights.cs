using PeftOnnx.Onnx.Modules;

namespace PeftOnnx.Onnx.Side;

/// <summary>
/// The base encoder's weights (Hugging Face keys, torch layouts, <see cref="HfStateDict"/>), read on first use: what a
/// method whose adapter values depend on the base (gated prompts' keys and values) converts with. Methods that do not
/// ask never load it.
/// </summary>
public sealed class SideBaseWeights
{
    private readonly Lazy<IReadOnlyDictionary<string, (float[] Data, long[] Shape)>> _state;
    private readonly string _source;

    public SideBaseWeights(Func<IReadOnlyDictionary<string, (float[] Data, long[] Shape)>> load, string source)
    {
        ArgumentNullException.ThrowIfNull(load);
        _state = new(load);
        _source = source;
    }

    /// <summary>The weights of the ONNX model at <paramref name="path"/>.</summary>
    public static SideBaseWeights FromOnnx(string path) => new(() => HfStateDict.FromOnnx(path), path);

    public (float[] Data, long[] Shape) this[string key] =>
        _state.Value.TryGetValue(key, out var tensor) ? tensor : throw new InvalidDataException($"{_source} has no base weight {key}; the adapter needs it to convert.");
}
