using PeftOnnx.Core.Adapters;
using PeftOnnx.Core.SafeTensors;
using PeftOnnx.Training.Encoder;
using PeftOnnx.Training.Methods;
using TorchSharp;
using static TorchSharp.torch;

namespace PeftOnnx.Training.Output;

/// <summary>Puts a PEFT adapter folder's tensors into a model on which the matching method was applied.</summary>
public static class AdapterLoader
{
    /// <summary>
    /// Applies the adapter's method to <paramref name="model"/> and copies every tensor of adapter_model.safetensors
    /// into it. Adapters for a bare encoder (task_type null: keys base_model.model.encoder.…) load into model.bert.
    /// </summary>
    public static PeftMethod Apply(BertForSequenceClassification model, string adapterDirectory)
    {
        var config = PeftAdapterConfig.Load(Path.Combine(adapterDirectory, PeftAdapterConfig.FileName));
        var method = PeftMethods.FromConfig(config);
        method.ReadFolder(adapterDirectory);
        method.Apply(model);
        var bareEncoder = !new PeftKeys(config.TaskType).UsesTaskModel;
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var path = Path.Combine(adapterDirectory, PeftAdapter.WeightsFileName);
        using var file = SafeTensorFile.Open(path);
        using var _ = no_grad();
        foreach (var info in file.Tensors)
        {
            var name = method.ParameterName(info.Name)
                ?? throw new InvalidDataException($"{path}: key {info.Name} is not a {config.PeftType} key PeftOnnx knows.");
            if (bareEncoder && !name.StartsWith("classifier.", StringComparison.Ordinal))
                name = "bert." + name;
            if (!parameters.TryGetValue(name, out var parameter))
                throw new InvalidDataException($"{path}: key {info.Name} names {name}, which the model does not have after applying {method.Name}; is the adapter for another base model?");
            var expected = parameter.shape;
            if (!info.Shape.SequenceEqual(expected))
                throw new InvalidDataException($"{path}: {info.Name} has shape {info.ShapeText}, the model expects [{string.Join(", ", expected)}].");
            using var source = tensor(file.ReadFloat32(info.Name), info.Shape);
            parameter.copy_(source);
        }
        return method;
    }
}
