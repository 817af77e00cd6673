using Onnx;
using PeftOnnx.Onnx.Graph;

namespace PeftOnnx.Onnx.Modules;

/// <summary>
/// The Hugging Face state dict (BertModel keys, torch layouts) of an exported encoder: what a TorchSharp model loads
/// to start from the same weights as the ONNX file.
/// </summary>
public static class HfStateDict
{
    /// <summary>Loads <paramref name="path"/> and extracts its parameters; see <see cref="FromModel"/>.</summary>
    public static IReadOnlyDictionary<string, (float[] Data, long[] Shape)> FromOnnx(string path) =>
        FromModel(OnnxModelFile.Load(path));

    /// <summary>
    /// Every Linear as <c>X.weight</c> [out, in] (MatMul weights, stored [in, out], are transposed) and <c>X.bias</c> [out],
    /// plus the parameters the export kept under their own names (embeddings.*, *.LayerNorm.*), as float32.
    /// </summary>
    public static IReadOnlyDictionary<string, (float[] Data, long[] Shape)> FromModel(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var map = ModuleMap.Build(model);
        var initializers = model.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var state = new Dictionary<string, (float[] Data, long[] Shape)>(StringComparer.Ordinal);

        foreach (var parameter in map.NamedParameters)
            Add(state, parameter.Key, TensorData.ToFloat32(initializers[parameter.Key]), parameter.Shape);
        foreach (var linear in map.Linears)
        {
            var weight = TensorData.ToFloat32(initializers[linear.WeightInitializer]);
            if (linear.Layout == WeightLayout.InOut)
                weight = Transpose(weight, linear.InFeatures, linear.OutFeatures);
            Add(state, linear.WeightKey, weight, [linear.OutFeatures, linear.InFeatures]);
            if (linear.BiasInitializer is not null)
                Add(state, linear.BiasKey, TensorData.ToFloat32(initializers[linear.BiasInitializer]), [linear.OutFeatures]);
        }
        return state;
    }

    /// <summary>
    /// The inverse of <see cref="FromModel"/>: puts each parameter of <paramref name="state"/> (same keys and torch
    /// layouts) back into the initializer it came from, as float32 (MatMul weights transposed back to [in, out]).
    /// </summary>
    public static void Write(ModelProto model, IReadOnlyDictionary<string, (float[] Data, long[] Shape)> state)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(state);
        var map = ModuleMap.Build(model);
        var replacements = new Dictionary<string, TensorProto>(StringComparer.Ordinal);
        void Put(string initializer, string key, ReadOnlySpan<float> values, long[] dims)
        {
            if (state.ContainsKey(key))
                replacements[initializer] = TensorData.FromFloat32(initializer, values, dims);
        }
        var initializers = model.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var parameter in map.NamedParameters.Where(p => state.ContainsKey(p.Key)))
            Put(parameter.Key, parameter.Key, state[parameter.Key].Data, [.. initializers[parameter.Key].Dims]);
        foreach (var linear in map.Linears)
        {
            if (state.TryGetValue(linear.WeightKey, out var weight))
            {
                var values = linear.Layout == WeightLayout.InOut ? Transpose(weight.Data, linear.OutFeatures, linear.InFeatures) : weight.Data;
                Put(linear.WeightInitializer, linear.WeightKey, values, [.. initializers[linear.WeightInitializer].Dims]);
            }
            if (linear.BiasInitializer is not null)
                Put(linear.BiasInitializer, linear.BiasKey, state.TryGetValue(linear.BiasKey, out var b) ? b.Data : [], [.. initializers[linear.BiasInitializer].Dims]);
        }
        var rewrite = new GraphRewrite(model);
        foreach (var tensor in replacements.Values)
            rewrite.ReplaceInitializer(tensor);
        rewrite.Apply();
    }

    /// <summary>[rows, cols] row-major to [cols, rows] row-major.</summary>
    public static float[] Transpose(float[] matrix, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        if (matrix.Length != (long)rows * cols)
            throw new ArgumentException($"Matrix has {matrix.Length} values, expected {rows}x{cols} = {(long)rows * cols}.", nameof(matrix));
        var result = new float[matrix.Length];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < cols; c++)
                result[(long)c * rows + r] = matrix[(long)r * cols + c];
        }
        return result;
    }

    private static void Add(Dictionary<string, (float[] Data, long[] Shape)> state, string key, float[] data, long[] shape)
    {
        if (!state.TryAdd(key, (data, shape)))
            throw new InvalidDataException($"State dict: parameter {key} appears twice in the model (as a named initializer and as a recovered Linear).");
    }
}
