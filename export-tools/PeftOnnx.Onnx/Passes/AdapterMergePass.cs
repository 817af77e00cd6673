using Onnx;
using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.Numerics;
using PeftOnnx.Onnx.Graph;
using PeftOnnx.Onnx.Modules;
using DataType = Onnx.TensorProto.Types.DataType;

namespace PeftOnnx.Onnx.Passes;

/// <summary>
/// Folds an adapter into the base model's Linear initializers: for every module the adapter changes, read W and b
/// (float32 -> float64, torch layout [out, in]), ask the adapter method (<see cref="IAdapterMerge"/>: LoRA, DoRA,
/// IA3) for W' and b', and write them back in the initializer's own layout. The graph is not changed, so the merged
/// model runs exactly as fast as the base.
/// <code>
///   x ─ MatMul(W [in, out]) ─ Add(b) ─ y      becomes      x ─ MatMul(W' [in, out]) ─ Add(b') ─ y
/// </code>
/// All merged tensors are computed first and replaced together, so a failure leaves the model untouched.
/// </summary>
public sealed class AdapterMergePass(IAdapterMerge merge, ModuleMap modules, string baseModelName) : IGraphPass
{
    public string Name => "adapter-merge";

    /// <summary>The modules whose weights change.</summary>
    public IReadOnlyList<string> Modules => merge.Modules;

    public PassReport Collect(GraphRewrite rewrite)
    {
        ArgumentNullException.ThrowIfNull(rewrite);
        ArgumentNullException.ThrowIfNull(modules);
        var initializers = rewrite.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var replacements = new Dictionary<string, TensorProto>(StringComparer.Ordinal);

        foreach (var name in merge.Modules)
        {
            var linear = Resolve(name);
            var weight = ReadWeight(initializers, linear);
            var bias = linear.BiasInitializer is null ? null : ReadFloat(initializers, linear.BiasInitializer, name);
            var merged = merge.Merge(name, weight, bias);
            replacements[linear.WeightInitializer] = WriteWeight(initializers[linear.WeightInitializer], linear, merged.Weight);
            if (merged.Bias is not null)
            {
                if (linear.BiasInitializer is null)
                    throw new InvalidDataException($"the adapter gives {name} a bias, but {baseModelName}'s {name} has none.");
                replacements[linear.BiasInitializer] = WriteFloat(initializers[linear.BiasInitializer], merged.Bias, name);
            }
        }

        foreach (var tensor in merge.Replacements)
        {
            var (initializer, layout) = ResolveParameter(initializers, tensor);
            var values = layout == WeightLayout.InOut ? tensor.AsMatrix().Transpose().Data : tensor.Data;
            FiniteValues.Require(values, $"adapter tensor {tensor.Name}");
            replacements[initializer.Name] = WriteFloat(initializer, values, $"{tensor.Key.Module}.{tensor.Key.Parameter}");
        }

        foreach (var replacement in replacements.Values)
            rewrite.ReplaceInitializer(replacement);
        return PassReport.Of(this, merge.Modules.Count, $"{merge.Modules.Count} modules merged, {replacements.Count} initializers replaced");
    }

    private LinearModule Resolve(string name)
    {
        try
        {
            return modules[name];
        }
        catch (KeyNotFoundException e)
        {
            throw new InvalidDataException($"the adapter targets {name}, which {baseModelName} does not have. {e.Message}", e);
        }
    }

    /// <summary>The base weight as a torch-layout matrix [out, in].</summary>
    private static Matrix64 ReadWeight(Dictionary<string, TensorProto> initializers, LinearModule linear)
    {
        var data = ReadFloat(initializers, linear.WeightInitializer, linear.Name);
        return linear.Layout == WeightLayout.OutIn
            ? new Matrix64(linear.OutFeatures, linear.InFeatures, data)
            : new Matrix64(linear.InFeatures, linear.OutFeatures, data).Transpose(); // [in, out] -> [out, in]
    }

    private static TensorProto WriteWeight(TensorProto original, LinearModule linear, Matrix64 weight)
    {
        if (weight.Rows != linear.OutFeatures || weight.Cols != linear.InFeatures)
            throw new InvalidDataException($"merged weight of {linear.Name} is {weight.Shape}, expected [{linear.OutFeatures}, {linear.InFeatures}].");
        var stored = linear.Layout == WeightLayout.OutIn ? weight : weight.Transpose(); // [out, in] -> [in, out] for MatMul
        return WriteFloat(original, stored.Data, linear.Name);
    }

    private static double[] ReadFloat(Dictionary<string, TensorProto> initializers, string initializer, string module)
    {
        var tensor = initializers[initializer];
        if (tensor.DataType != (int)DataType.Float)
        {
            throw new InvalidDataException(
                $"{module}: initializer '{initializer}' is {TensorElementTypes.Name(tensor.DataType)}, not FLOAT; merge into the fp32 base model and ask for --precision fp16 afterwards.");
        }
        return TensorData.ToFloat64(tensor);
    }

    /// <summary>A float32 copy of <paramref name="original"/> with new values; values beyond float32's range are refused.</summary>
    private static TensorProto WriteFloat(TensorProto original, double[] values, string module)
    {
        var count = TensorData.ElementCount(original.Dims);
        if (values.Length != count)
            throw new InvalidDataException($"shape mismatch at {module}: the adapter gives {values.Length} values, the base initializer '{original.Name}' [{string.Join(", ", original.Dims)}] holds {count}.");
        var floats = new float[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            floats[i] = (float)values[i];
            if (!float.IsFinite(floats[i]))
                throw new InvalidDataException($"the merged value {values[i]:G6} of {module} at index {i} does not fit in float32; the adapter is broken.");
        }
        return TensorData.FromFloat32(original.Name, floats, [.. original.Dims]);
    }

    /// <summary>The base initializer an adapter tensor replaces (bias="all" biases, modules_to_save inside the encoder).</summary>
    private (TensorProto Initializer, WeightLayout Layout) ResolveParameter(Dictionary<string, TensorProto> initializers, AdapterTensor tensor)
    {
        var (module, parameter) = (tensor.Key.Module, tensor.Key.Parameter);
        if (modules.TryGet(module, out var linear))
        {
            var (name, layout, shape) = parameter == "weight"
                ? (linear.WeightInitializer, linear.Layout, new long[] { linear.OutFeatures, linear.InFeatures })
                : (linear.BiasInitializer ?? throw new InvalidDataException($"adapter tensor {tensor.Name} replaces the bias of {module}, which has none in {baseModelName}."),
                   WeightLayout.OutIn, new long[] { linear.OutFeatures });
            if (!tensor.Shape.SequenceEqual(shape))
                throw new InvalidDataException($"shape mismatch at {module}.{parameter}: the adapter has {tensor.ShapeText}, {baseModelName} has [{string.Join(", ", shape)}].");
            return (initializers[name], layout);
        }
        var key = $"{module}.{parameter}";
        var named = modules.NamedParameters.FirstOrDefault(p => p.Key == key)
            ?? throw new InvalidDataException($"adapter tensor {tensor.Name} replaces {key}, which {baseModelName} does not have.");
        if (!tensor.Shape.SequenceEqual(named.Shape))
            throw new InvalidDataException($"shape mismatch at {key}: the adapter has {tensor.ShapeText}, {baseModelName} has [{string.Join(", ", named.Shape)}].");
        return (initializers[key], WeightLayout.OutIn);
    }
}
