using PeftOnnx.Onnx.Passes.Fusions;
using Xunit.Abstractions;

namespace PeftOnnx.Onnx.Tests.Fusions;

public sealed class TransformerFusionTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    [Theory]
    [InlineData("LayerNormalization", 13)]
    [InlineData("LayerNormalization,SkipLayerNormalization", 12)]
    [InlineData("BiasGelu", 6)]
    [InlineData("Attention", 6)]
    [InlineData("MultiHeadAttention", 6)]
    [InlineData("LayerNormalization,EmbedLayerNormalization", 1)]
    public void Each_fusion_matches_the_unfused_graph(string passNames, int expectedLastPassFusions)
    {
        var passes = passNames.Split(',').Select(TransformerFusion.Find).ToList();
        var fused = MiniLm.Clone();
        var results = TransformerFusion.Apply(fused, passes);
        foreach (var result in results)
            output.WriteLine(result.ToString());

        var diff = FusionParity.MaxAbsDiff(MiniLm.Model, fused, out var detail);
        output.WriteLine($"{passNames}: max abs diff {diff:E3} ({detail}); nodes {MiniLm.Model.Graph.Node.Count} -> {fused.Graph.Node.Count}");
        Assert.Equal(expectedLastPassFusions, results[^1].Changed);
        Assert.Empty(results[^1].Unhandled);
        Assert.True(diff <= Tolerance, $"max abs diff {diff} exceeds {Tolerance}");
    }

    [Fact]
    public void All_fusions_leave_one_node_per_block_and_match_the_unfused_graph()
    {
        var fused = MiniLm.Clone();
        var results = TransformerFusion.Apply(fused);
        foreach (var result in results)
            output.WriteLine(result.ToString());
        var ops = fused.Graph.Node.GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine(string.Join(", ", ops.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value}")));

        var diff = FusionParity.MaxAbsDiff(MiniLm.Model, fused, out var detail);
        output.WriteLine($"all fusions: max abs diff {diff:E3} ({detail}); nodes {MiniLm.Model.Graph.Node.Count} -> {fused.Graph.Node.Count}");
        Assert.Equal(6, ops["Attention"]);
        Assert.Equal(12, ops["SkipLayerNormalization"]);
        Assert.Equal(6, ops["BiasGelu"]);
        Assert.Equal(1, ops["LayerNormalization"]);
        Assert.False(ops.ContainsKey("Softmax"));
        Assert.False(ops.ContainsKey("Erf"));
        Assert.Contains(fused.OpsetImport, o => o.Domain == TransformerFusion.MicrosoftDomain);
        Assert.True(diff <= Tolerance, $"max abs diff {diff} exceeds {Tolerance}");
    }

    [Fact]
    public void Embeddings_with_positions_not_counting_from_zero_stay_unfused()
    {
        // ONNX Runtime's kernel numbers positions 0..S-1 itself; a position buffer that does not is left alone.
        var model = MiniLm.Clone();
        var buffer = model.Graph.Initializer.Single(t => t.Name == "embeddings.position_ids");
        var shifted = TensorData.ToInt64(buffer).Select(p => p + 2).ToArray();
        model.Graph.Initializer.Remove(buffer);
        model.Graph.Initializer.Add(TensorData.FromInt64("embeddings.position_ids", shifted, 1, shifted.Length));

        var results = TransformerFusion.Apply(model, [new LayerNormFusion(), new EmbedLayerNormFusion()]);

        output.WriteLine(results[^1].ToString());
        Assert.Equal(0, results[^1].Changed);
        Assert.Single(results[^1].Unhandled);
    }

    [Fact]
    public void Unknown_fusion_name_lists_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => TransformerFusion.Find("Gelu2"));
        Assert.Contains("Attention", e.Message, StringComparison.Ordinal);
    }
}
