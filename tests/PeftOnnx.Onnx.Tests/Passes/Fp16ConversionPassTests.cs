using Microsoft.ML.OnnxRuntime;
using Onnx;
using PeftOnnx.Onnx;
using PeftOnnx.Onnx.Passes;
using Xunit.Abstractions;
using static PeftOnnx.Onnx.Graph.OnnxNodes;
using static PeftOnnx.Onnx.Tests.TestGraphs;

namespace PeftOnnx.Onnx.Tests.Passes;

public sealed class Fp16ConversionPassTests(ITestOutputHelper output)
{
    [Fact]
    public void Minilm_fp16_matches_fp32_on_cpu()
    {
        using var dir = new TempFolder();
        var model = MiniLm.Clone();
        var summary = model.Apply(new Fp16ConversionPass()).ToString();
        output.WriteLine(summary);
        var path = dir.Combine("fp16.onnx");
        OnnxModelFile.Save(model, path);

        var run = EncoderRun.FromDevTexts(count: 4, maxLength: 48);
        using var fp32 = new InferenceSession(MiniLm.ModelPath);
        using var fp16 = new InferenceSession(path);
        var expected = run.LastHiddenState(fp32);
        var actual = run.LastHiddenState(fp16);

        var maxDiff = run.MaxAbsDiff(expected, actual, 384);
        var maxMagnitude = expected.Max(Math.Abs);
        var cosines = run.MeanPool(expected, 384).Zip(run.MeanPool(actual, 384), EncoderRun.Cosine).ToList();
        output.WriteLine($"fp16 vs fp32 last_hidden_state: max abs diff {maxDiff:G3} (largest |value| {maxMagnitude:G3}); mean-pooled cosine min {cosines.Min():F6}");
        output.WriteLine($"size: fp32 {new FileInfo(MiniLm.ModelPath).Length:N0} bytes, fp16 {new FileInfo(path).Length:N0} bytes");
        Assert.True(maxDiff < 2e-2, $"max abs diff {maxDiff}");
        Assert.All(cosines, c => Assert.True(c > 0.9999, $"cosine {c}"));
        Assert.True(new FileInfo(path).Length < new FileInfo(MiniLm.ModelPath).Length * 0.55);
    }

    [Fact]
    public void Boundary_stays_fp32_and_layer_norm_statistics_stay_fp32()
    {
        var model = MiniLm.Clone();
        model.Apply(new Fp16ConversionPass());
        var graph = model.Graph;

        Assert.All(graph.Input, i => Assert.Equal((int)TensorProto.Types.DataType.Int64, i.Type.TensorType.ElemType));
        Assert.All(graph.Output, o => Assert.Equal((int)TensorProto.Types.DataType.Float, o.Type.TensorType.ElemType));
        var lastHidden = graph.Node.Single(n => n.Output.Contains("last_hidden_state"));
        Assert.Equal("Cast", lastHidden.OpType);
        Assert.Equal((int)TensorProto.Types.DataType.Float, lastHidden.Attribute.Single(a => a.Name == "to").I);
        // 13 LayerNorms: each Pow reads its Sub directly (both fp32, no Cast between) and each eps Constant stays float32.
        var producers = graph.Node.SelectMany(n => n.Output.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
        var pows = graph.Node.Where(n => n.OpType == "Pow").ToList();
        Assert.Equal(13, pows.Count);
        Assert.All(pows, pow => Assert.Equal("Sub", producers[pow.Input[0]].OpType));
        var epsAdds = graph.Node.Where(n => n.OpType == "Sqrt").Select(sqrt => producers[sqrt.Input[0]]).ToList();
        Assert.All(epsAdds, add =>
        {
            Assert.Equal("Add", add.OpType);
            var eps = producers[add.Input[1]].Attribute.Single(a => a.Name == "value").T;
            Assert.Equal((int)TensorProto.Types.DataType.Float, eps.DataType);
            Assert.True(TensorData.ToFloat32(eps)[0] is > 0 and < 1e-6f);
        });
        var initializerTypes = graph.Initializer.ToDictionary(t => t.Name, t => t.DataType);
        Assert.Equal((int)TensorProto.Types.DataType.Float16, initializerTypes["927"]);
        Assert.Equal((int)TensorProto.Types.DataType.Float16, initializerTypes["embeddings.word_embeddings.weight"]);
        var softmaxInputs = graph.Node.Where(n => n.OpType == "Softmax").Select(n => graph.Node.Single(p => p.Output.Contains(n.Input[0]))).ToList();
        Assert.All(softmaxInputs, producer => Assert.Equal("Cast", producer.OpType));
    }

    //   x(fp32) ─> MatMul(W) ─> Softmax ─> y(fp32)     W becomes fp16, MatMul runs fp16, Softmax fp32
    [Fact]
    public void Float_graph_input_is_cast_in_and_kept_ops_are_cast_around()
    {
        var graph = new GraphProto { Name = "g" };
        graph.Initializer.Add(TensorData.FromFloat32("w", [1e5f, 2, 3, 4], 2, 2));
        graph.Node.Add(Node("MatMul", "mm", ["x", "w"], ["h"]));
        graph.Node.Add(Node("Softmax", "sm", ["h"], ["y"], IntAttribute("axis", -1)));
        graph.Input.Add(FloatValue("x", 1, 2));
        graph.Output.Add(FloatValue("y", 1, 2));
        var model = Model(graph, 13);

        model.Apply(new Fp16ConversionPass());

        var ops = model.Graph.Node.Select(n => n.OpType).ToList();
        Assert.Equal(["Cast", "MatMul", "Cast", "Softmax"], ops);
        var w = model.Graph.Initializer.Single();
        Assert.Equal((int)TensorProto.Types.DataType.Float16, w.DataType);
        Assert.Equal(65504f, TensorData.ToFloat32(w)[0]); // clamped, not infinity
        using var session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(model));
        using var x = OrtValue.CreateTensorValueFromMemory(new float[] { 0f, 1f }, [1, 2]);
        using var runOptions = new RunOptions();
        using var result = session.Run(runOptions, ["x"], [x], ["y"]);
        var y = result[0].GetTensorDataAsSpan<float>().ToArray();
        // softmax([3, 4]) = [0.2689, 0.7311]
        Assert.Equal(0.2689, y[0], 3);
        Assert.Equal(0.7311, y[1], 3);
    }

    [Fact]
    public void Unknown_op_fails_before_changing_the_model()
    {
        var graph = new GraphProto { Name = "g" };
        graph.Initializer.Add(TensorData.FromFloat32("w", [1, 2, 3, 4], 2, 2));
        graph.Node.Add(Node("MatMul", "mm", ["x", "w"], ["h"]));
        graph.Node.Add(new NodeProto { OpType = "Frobnicate", Domain = "example.org", Name = "odd", Input = { "h" }, Output = { "y" } });
        graph.Input.Add(FloatValue("x", 1, 2));
        graph.Output.Add(FloatValue("y", 1, 2));
        var model = Model(graph, 13);
        var before = model.Clone();

        var e = Assert.Throws<NotSupportedException>(() => model.Apply(new Fp16ConversionPass()));

        Assert.Contains("example.org:Frobnicate", e.Message);
        Assert.Equal(before, model);
    }
}
