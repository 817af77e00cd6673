using Onnx;
using PeftOnnx.Core.Models;
using PeftOnnx.Onnx.Modules;

namespace PeftOnnx.Onnx.Import;

/// <summary>
/// An ONNX encoder exported by Optimum (or torch.onnx): kept as it is when the module map recovers every Linear of
/// the BERT the config describes, so adapters merge and side-graphs attach as on the NuGet models. A MatMul the map
/// cannot name fails with that node's name (from <see cref="ModuleMap.Build"/>); a missing module is named too.
/// </summary>
public static class OptimumModel
{
    private static readonly string[] Kinds =
        ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense"];

    public static (ModelProto Model, ModelArchitecture Config) Read(string path, ModelArchitecture config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var model = OnnxModelFile.Load(path);
        var inputs = model.Graph.Input.Select(i => i.Name).ToList();
        foreach (var required in new[] { "input_ids", "attention_mask" })
        {
            if (!inputs.Contains(required))
                throw new InvalidDataException($"{path}: the graph has no input {required} (inputs: {string.Join(", ", inputs)}); a BERT encoder export is expected.");
        }
        if (model.Graph.Output.All(o => o.Name != "last_hidden_state"))
            throw new InvalidDataException($"{path}: the graph has no output last_hidden_state (outputs: {string.Join(", ", model.Graph.Output.Select(o => o.Name))}); export it with task feature-extraction.");

        ModuleMap map;
        try
        {
            map = ModuleMap.Build(model);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: the module map cannot be built, so adapters could not be merged into this model: {e.Message}", e);
        }
        for (var layer = 0; layer < config.Layers; layer++)
        {
            foreach (var kind in Kinds)
            {
                var name = $"encoder.layer.{layer}.{kind}";
                if (!map.TryGet(name, out var linear))
                    throw new InvalidDataException($"{path}: module {name} was not found in the graph; the map recovered {map.Summary()}.");
                var expected = kind switch
                {
                    "intermediate.dense" => (config.Hidden, config.Intermediate),
                    "output.dense" => (config.Intermediate, config.Hidden),
                    _ => (config.Hidden, config.Hidden),
                };
                if ((linear.InFeatures, linear.OutFeatures) != expected)
                    throw new InvalidDataException($"{path}: module {name} is [{linear.InFeatures} -> {linear.OutFeatures}], config.json describes [{expected.Item1} -> {expected.Item2}].");
            }
        }
        if (map.LayerCount != config.Layers)
            throw new InvalidDataException($"{path}: the graph has {map.LayerCount} layers, config.json's num_hidden_layers is {config.Layers}.");
        var pooler = map.TryGet("pooler.dense", out _) && model.Graph.Output.Any(o => o.Name == BertGraphBuilder.PoolerOutput);
        return (model, config with { Pooler = pooler });
    }
}
