using Google.Protobuf;
using Onnx;
using PeftOnnx.Onnx.Graph;
using static PeftOnnx.Onnx.Tests.TestGraphs;

namespace PeftOnnx.Onnx.Tests.Graph;

public sealed class GraphRewriteTests
{
    [Fact]
    public void Nothing_changes_before_apply_and_added_nodes_land_after_their_producers()
    {
        var model = TinyMatMul(); // y = MatMul(x, w)
        var before = model.ToByteArray();
        var rewrite = new GraphRewrite(model);
        rewrite.Add(Node("Relu", "relu", ["y_raw"], ["y"]));
        rewrite.Edit(model.Graph.Node[0]).Output[0] = "y_raw";

        Assert.Equal(before, model.ToByteArray());
        rewrite.Apply();

        Assert.Equal(["mm", "relu"], model.Graph.Node.Select(n => n.Name));
        Assert.Equal("y_raw", model.Graph.Node[0].Output[0]);
    }

    [Fact]
    public void A_node_added_after_its_reader_is_sorted_before_it()
    {
        var model = TinyMatMul();
        var rewrite = new GraphRewrite(model);
        rewrite.Edit(model.Graph.Node[0]).Input[0] = "x_neg";
        rewrite.Add(Node("Neg", "neg", ["x"], ["x_neg"]));
        rewrite.Apply();

        Assert.Equal(["neg", "mm"], model.Graph.Node.Select(n => n.Name));
    }

    [Fact]
    public void Rewire_moves_the_existing_readers_but_not_the_added_nodes()
    {
        var model = TinyMatMul();
        model.Graph.Output[0].Name = "z";
        model.Graph.Node.Add(Node("Neg", "neg", ["y"], ["z"]));
        var rewrite = new GraphRewrite(model);
        rewrite.Add(Node("Relu", "relu", ["y"], ["y_relu"]));
        rewrite.Rewire("y", "y_relu");
        rewrite.Apply();

        Assert.Equal(["mm", "relu", "neg"], model.Graph.Node.Select(n => n.Name));
        Assert.Equal("y", model.Graph.Node[1].Input[0]);
        Assert.Equal("y_relu", model.Graph.Node[2].Input[0]);
    }

    [Fact]
    public void A_cycle_is_refused_with_the_nodes_that_never_become_ready()
    {
        var model = TinyMatMul();
        var rewrite = new GraphRewrite(model);
        rewrite.Add(Node("Neg", "a", ["b_out"], ["a_out"]));
        rewrite.Add(Node("Neg", "b", ["a_out"], ["b_out"]));

        var e = Assert.Throws<InvalidDataException>(rewrite.Apply);

        Assert.Contains("cycle", e.Message, StringComparison.Ordinal);
        Assert.Contains("Neg a", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rewiring_a_graph_output_is_refused()
    {
        var model = TinyMatMul();
        var rewrite = new GraphRewrite(model);
        rewrite.Rewire("y", "y2");

        var e = Assert.Throws<InvalidDataException>(rewrite.Apply);

        Assert.Contains("'y' is a graph output", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Initializers_are_replaced_in_place_and_opsets_only_raised()
    {
        var model = TinyMatMul(); // opset 17
        var rewrite = new GraphRewrite(model);
        rewrite.ReplaceInitializer(TensorData.FromFloat32("w", [5, 6, 7, 8], 2, 2));
        rewrite.RequireOpset("", 13);
        rewrite.RequireOpset("com.microsoft", 1);
        rewrite.Apply();

        Assert.Equal([5f, 6f, 7f, 8f], TensorData.ToFloat32(model.Graph.Initializer.Single()));
        Assert.Equal(17, model.OpsetImport.Single(o => o.Domain.Length == 0).Version);
        Assert.Equal(1, model.OpsetImport.Single(o => o.Domain == "com.microsoft").Version);
    }

    [Fact]
    public void Replacing_an_initializer_the_graph_lacks_is_refused()
    {
        var rewrite = new GraphRewrite(TinyMatMul());

        var e = Assert.Throws<InvalidOperationException>(() => rewrite.ReplaceInitializer(TensorData.FromFloat32("missing", [1])));

        Assert.Contains("'missing'", e.Message, StringComparison.Ordinal);
    }
}
