using Onnx;
using Xunit.Abstractions;
using PeftOnnx.Onnx;
using PeftOnnx.Onnx.Modules;
using static PeftOnnx.Onnx.Graph.OnnxNodes;
using static PeftOnnx.Onnx.Tests.TestGraphs;

namespace PeftOnnx.Onnx.Tests.Modules;

public sealed class ModuleMapTests(ITestOutputHelper output)
{
    private static readonly (string Kind, int In, int Out)[] LayerLinears =
    [
        ("attention.self.query", 384, 384), ("attention.self.key", 384, 384), ("attention.self.value", 384, 384),
        ("attention.output.dense", 384, 384), ("intermediate.dense", 384, 1536), ("output.dense", 1536, 384),
    ];

    [Fact]
    public void Minilm_has_37_linear_modules_with_expected_names_shapes_and_layouts()
    {
        var map = ModuleMap.Build(MiniLm.Model);
        output.WriteLine(map.Summary());

        var expected = Enumerable.Range(0, 6)
            .SelectMany(layer => LayerLinears.Select(l => ($"encoder.layer.{layer}.{l.Kind}", l.In, l.Out, WeightLayout.InOut)))
            .Append(("pooler.dense", 384, 384, WeightLayout.OutIn))
            .ToList();
        Assert.Equal(37, map.Linears.Count);
        Assert.Equal(expected, map.Linears.Select(l => (l.Name, l.InFeatures, l.OutFeatures, l.Layout)).OrderBy(IndexIn(expected)).ToList());
        Assert.Equal(6, map.LayerCount);
        foreach (var linear in map.Linears)
        {
            Assert.Equal(linear.BiasKey, linear.BiasInitializer);
            Assert.Single(linear.ConsumerNodes);
            var weight = MiniLm.Model.Graph.Initializer.Single(t => t.Name == linear.WeightInitializer);
            var stored = linear.Layout == WeightLayout.InOut ? new long[] { linear.InFeatures, linear.OutFeatures } : [linear.OutFeatures, linear.InFeatures];
            Assert.Equal(stored, weight.Dims);
        }
        Assert.Equal("pooler.dense.weight", map["pooler.dense"].WeightInitializer);
        Assert.Equal("Gemm_648", Assert.Single(map["pooler.dense"].ConsumerNodes));
    }

    [Fact]
    public void Minilm_named_parameters_are_embeddings_and_layer_norms()
    {
        var map = ModuleMap.Build(MiniLm.Model);

        var keys = map.NamedParameters.Select(p => p.Key).ToHashSet();
        Assert.Equal(5 + 6 * 4, keys.Count);
        Assert.Contains("embeddings.word_embeddings.weight", keys);
        Assert.Contains("embeddings.position_embeddings.weight", keys);
        Assert.Contains("embeddings.token_type_embeddings.weight", keys);
        Assert.Contains("encoder.layer.5.output.LayerNorm.bias", keys);
        Assert.Equal(new long[] { 30522, 384 }, map.NamedParameters.Single(p => p.Key == "embeddings.word_embeddings.weight").Shape);
        Assert.Empty(map.UnmappedInitializers);
        // all-MiniLM-L6-v2 (BertModel with pooler): 22,713,216 parameters
        Assert.Equal(22_713_216, map.ParameterCount);
    }

    [Fact]
    public void Unknown_module_lookup_names_the_layers_the_model_has()
    {
        var map = ModuleMap.Build(MiniLm.Model);

        var e = Assert.Throws<KeyNotFoundException>(() => map["encoder.layer.9.attention.self.query"]);

        Assert.Contains("it has 6 layers: 0..5", e.Message);
        Assert.Contains("encoder.layer.{0..5}.{attention.self.query, attention.self.key", e.Message);
        Assert.Equal("attention.self.query", ModuleMap.KindOf("encoder.layer.9.attention.self.query"));
    }

    //   x ─> Gemm(transB=0, W[in=4,out=3], classifier.bias) ─> y
    [Fact]
    public void Gemm_without_transB_is_InOut()
    {
        var graph = new GraphProto { Name = "g" };
        graph.Initializer.Add(TensorData.FromFloat32("onnx::Gemm_7", new float[12], 4, 3));
        graph.Initializer.Add(TensorData.FromFloat32("classifier.bias", new float[3], 3));
        graph.Node.Add(Node("Gemm", "Gemm_0", ["x", "onnx::Gemm_7", "classifier.bias"], ["y"]));

        var linear = Assert.Single(ModuleMap.Build(Model(graph)).Linears);

        Assert.Equal(("classifier", WeightLayout.InOut, 4, 3), (linear.Name, linear.Layout, linear.InFeatures, linear.OutFeatures));
    }

    //   x ─> MatMul(x, Transpose(dense.weight[out=3,in=4])) ─> Add(dense.bias) ─> y
    [Fact]
    public void MatMul_behind_a_Transpose_is_OutIn()
    {
        var graph = new GraphProto { Name = "g" };
        graph.Initializer.Add(TensorData.FromFloat32("onnx::W_1", new float[12], 3, 4));
        graph.Initializer.Add(TensorData.FromFloat32("dense.bias", new float[3], 3));
        graph.Node.Add(Node("Transpose", "Transpose_0", ["onnx::W_1"], ["wt"], IntsAttribute("perm", 1, 0)));
        graph.Node.Add(Node("MatMul", "MatMul_1", ["x", "wt"], ["xw"]));
        graph.Node.Add(Node("Add", "Add_2", ["xw", "dense.bias"], ["y"]));

        var linear = Assert.Single(ModuleMap.Build(Model(graph)).Linears);

        Assert.Equal(("dense", WeightLayout.OutIn, 4, 3, "Transpose_0"), (linear.Name, linear.Layout, linear.InFeatures, linear.OutFeatures, linear.TransposeNode));
        Assert.Equal(["MatMul_1"], linear.ConsumerNodes);
    }

    //   a ─> MatMul(a, proj.weight) ─> y1      (one weight, two nodes, no bias: named by the weight)
    //   b ─> MatMul(b, proj.weight) ─> y2
    [Fact]
    public void Shared_and_directly_named_weight_is_one_module_with_both_consumers()
    {
        var graph = new GraphProto { Name = "g" };
        graph.Initializer.Add(TensorData.FromFloat32("proj.weight", new float[8], 4, 2));
        graph.Node.Add(Node("MatMul", "MatMul_a", ["a", "proj.weight"], ["y1"]));
        graph.Node.Add(Node("MatMul", "MatMul_b", ["b", "proj.weight"], ["y2"]));

        var linear = Assert.Single(ModuleMap.Build(Model(graph)).Linears);

        Assert.Equal(("proj", (string?)null, 4, 2), (linear.Name, linear.BiasInitializer, linear.InFeatures, linear.OutFeatures));
        Assert.Equal(["MatMul_a", "MatMul_b"], linear.ConsumerNodes);
    }

    [Fact]
    public void Numeric_weight_without_a_named_bias_fails_naming_the_node()
    {
        var graph = new GraphProto { Name = "g" };
        graph.Initializer.Add(TensorData.FromFloat32("onnx::MatMul_1234", new float[8], 4, 2));
        graph.Node.Add(Node("MatMul", "MatMul_9", ["x", "onnx::MatMul_1234"], ["y"]));

        var e = Assert.Throws<InvalidDataException>(() => ModuleMap.Build(Model(graph)));

        Assert.Contains("MatMul MatMul_9", e.Message);
        Assert.Contains("onnx::MatMul_1234", e.Message);
    }

    [Fact]
    public void Weight_as_left_operand_is_an_unhandled_pattern()
    {
        var graph = new GraphProto { Name = "g" };
        graph.Initializer.Add(TensorData.FromFloat32("w.weight", new float[8], 2, 4));
        graph.Node.Add(Node("MatMul", "MatMul_left", ["w.weight", "x"], ["y"]));

        var e = Assert.Throws<InvalidDataException>(() => ModuleMap.Build(Model(graph)));

        Assert.Contains("unhandled pattern at MatMul MatMul_left", e.Message);
    }

    [Fact]
    public void Gemm_with_transA_is_an_unhandled_pattern()
    {
        var graph = new GraphProto { Name = "g" };
        graph.Initializer.Add(TensorData.FromFloat32("fc.weight", new float[8], 2, 4));
        graph.Node.Add(Node("Gemm", "Gemm_t", ["x", "fc.weight"], ["y"], IntAttribute("transA", 1)));

        var e = Assert.Throws<InvalidDataException>(() => ModuleMap.Build(Model(graph)));

        Assert.Contains("Gemm Gemm_t", e.Message);
        Assert.Contains("transA=1", e.Message);
    }

    private static Func<(string, int, int, WeightLayout), int> IndexIn(List<(string Name, int, int, WeightLayout)> expected) =>
        item => expected.FindIndex(e => e.Name == item.Item1);
}
