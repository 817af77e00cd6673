using System.Text.Json.Nodes;
using Google.Protobuf;
using Onnx;
using PeftOnnx.Core.SafeTensors;
using PeftOnnx.Onnx.Export;
using PeftOnnx.Onnx.Modules;
using Xunit.Abstractions;

namespace PeftOnnx.Onnx.Tests.Export;

/// <summary>
/// PEFT's merge tests, on ONNX: the merged model equals the unmerged one (base weights + LoRA branches
/// y = x·Wᵀ + b + s·(x·Aᵀ)·Bᵀ as separate graph nodes) and differs from the base model.
/// </summary>
public sealed class PeftStyleTests(ITestOutputHelper output) : IDisposable
{
    private const string Case = "lora_qv_r8";
    private readonly TempFolder _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void Merged_equals_unmerged_and_differs_from_base()
    {
        var bundle = new BundleExporter().Export(new BundleExportOptions
        {
            BaseDirectory = AdapterFixtures.BaseModelDirectory,
            AdapterDirectory = AdapterFixtures.Golden(Case),
            OutputDirectory = _tmp.Combine("merged"),
        });
        var inputs = GoldenReference.Load(Case);
        var merged = OrtRunner.Run(Path.Combine(bundle.Directory, "model.onnx"), inputs, "last_hidden_state")["last_hidden_state"];
        var unmerged = OrtRunner.Run(UnmergedModel().ToByteArray(), inputs, "last_hidden_state")["last_hidden_state"];
        var baseline = OrtRunner.Run(MiniLm.ModelPath, inputs, "last_hidden_state")["last_hidden_state"];

        var mergedVsUnmerged = GoldenReference.MaxAbsDiff(merged, unmerged);
        var mergedVsBase = GoldenReference.MaxAbsDiff(merged, baseline);
        var unmergedVsPeft = GoldenReference.MaxAbsDiff(unmerged, inputs.Expected);
        output.WriteLine($"{Case}: max |merged - unmerged| = {mergedVsUnmerged:E2}, |unmerged - PEFT| = {unmergedVsPeft:E2}, |merged - base| = {mergedVsBase:E2}");
        Assert.True(mergedVsUnmerged <= 1e-4, $"merged vs unmerged {mergedVsUnmerged:E3}");
        Assert.True(unmergedVsPeft <= 1e-4, $"unmerged vs PEFT {unmergedVsPeft:E3}");
        Assert.True(mergedVsBase > 1e-3, $"merged model is too close to the base model ({mergedVsBase:E3}): the adapter did nothing");
    }

    /// <summary>The base model with each LoRA module's branch as extra nodes, built without the exporter's code.</summary>
    private static ModelProto UnmergedModel()
    {
        var model = MiniLm.Clone();
        var map = ModuleMap.Build(model);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(AdapterFixtures.Golden(Case), "adapter_config.json")))!;
        var scale = (double)config["lora_alpha"]! / (double)config["r"]!;
        using var weights = SafeTensorFile.Open(Path.Combine(AdapterFixtures.Golden(Case), "adapter_model.safetensors"));
        var modules = weights.Tensors.Select(t => t.Name).Where(n => n.EndsWith(".lora_A.weight", StringComparison.Ordinal))
            .Select(n => n["base_model.model.".Length..^".lora_A.weight".Length]).ToList();
        Assert.Equal(12, modules.Count);

        var graph = model.Graph;
        graph.Initializer.Add(TensorData.FromFloat32("lora_scale", [(float)scale]));
        foreach (var module in modules)
        {
            var linear = map[module];
            Assert.Equal(WeightLayout.InOut, linear.Layout);
            var node = graph.Node.Single(n => n.Name == linear.ConsumerNodes.Single());
            Assert.Equal("MatMul", node.OpType);
            var a = weights.ReadFloat32($"base_model.model.{module}.lora_A.weight"); // [r, in]
            var b = weights.ReadFloat32($"base_model.model.{module}.lora_B.weight"); // [out, r]
            var r = (int)weights[$"base_model.model.{module}.lora_A.weight"].Shape[0];
            graph.Initializer.Add(TensorData.FromFloat32(module + ".lora_A_T", HfStateDict.Transpose(a, r, linear.InFeatures), linear.InFeatures, r));
            graph.Initializer.Add(TensorData.FromFloat32(module + ".lora_B_T", HfStateDict.Transpose(b, linear.OutFeatures, r), r, linear.OutFeatures));

            var (x, y) = (node.Input[0], node.Output[0]);
            node.Output[0] = y + "/base";
            var at = graph.Node.IndexOf(node);
            graph.Node.Insert(at + 1, Node("MatMul", [x, module + ".lora_A_T"], y + "/xa"));             // [b, s, r]
            graph.Node.Insert(at + 2, Node("MatMul", [y + "/xa", module + ".lora_B_T"], y + "/xab"));   // [b, s, out]
            graph.Node.Insert(at + 3, Node("Mul", [y + "/xab", "lora_scale"], y + "/delta"));
            graph.Node.Insert(at + 4, Node("Add", [y + "/base", y + "/delta"], y));
        }
        return model;
    }

    private static NodeProto Node(string op, string[] inputs, string output)
    {
        var node = new NodeProto { OpType = op, Name = output + "/" + op };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        return node;
    }
}
