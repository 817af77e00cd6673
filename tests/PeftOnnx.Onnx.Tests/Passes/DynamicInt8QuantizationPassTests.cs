using Microsoft.ML.OnnxRuntime;
using Onnx;
using PeftOnnx.Onnx;
using PeftOnnx.Onnx.Passes;
using Xunit.Abstractions;
using static PeftOnnx.Onnx.Tests.TestGraphs;

namespace PeftOnnx.Onnx.Tests.Passes;

public sealed class DynamicInt8QuantizationPassTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(Int8MatMulFormat.DynamicQuantizeMatMul)]
    [InlineData(Int8MatMulFormat.MatMulInteger)]
    public void Minilm_int8_is_small_and_close_to_fp32(Int8MatMulFormat format)
    {
        using var dir = new TempFolder();
        var model = MiniLm.Clone();
        output.WriteLine(model.Apply(new DynamicInt8QuantizationPass { Format = format }).ToString());
        var path = dir.Combine("int8.onnx");
        OnnxModelFile.Save(model, path);

        var ratio = new FileInfo(path).Length / (double)new FileInfo(MiniLm.ModelPath).Length;
        var run = EncoderRun.FromDevTexts(count: 16, maxLength: 64);
        using var fp32 = new InferenceSession(MiniLm.ModelPath);
        using var int8 = new InferenceSession(path);
        var expected = run.MeanPool(run.LastHiddenState(fp32), 384);
        var actual = run.MeanPool(run.LastHiddenState(int8), 384);
        var cosines = expected.Zip(actual, EncoderRun.Cosine).ToList();

        output.WriteLine($"{format}: size {new FileInfo(path).Length:N0} / {new FileInfo(MiniLm.ModelPath).Length:N0} bytes = {ratio:P1}; " +
            $"mean-pooled cosine per row min {cosines.Min():F5}, mean {cosines.Average():F5}");
        Assert.True(ratio <= 0.30, $"int8 model is {ratio:P1} of fp32");
        Assert.All(cosines, c => Assert.True(c > 0.99, $"cosine {c}"));
        Assert.DoesNotContain(model.Graph.Node, n => n.OpType == "MatMul" && model.Graph.Initializer.Any(t => t.Name == n.Input[1]));
    }

    /// <summary>After the transformer fusions, Attention becomes QAttention: the fastest int8 graph on CPU.</summary>
    [Fact]
    public void Fused_minilm_int8_uses_QAttention_and_stays_close()
    {
        using var dir = new TempFolder();
        var model = MiniLm.Clone();
        PeftOnnx.Onnx.Passes.Fusions.TransformerFusion.Apply(model);
        output.WriteLine(model.Apply(new DynamicInt8QuantizationPass()).ToString());
        var path = dir.Combine("fused-int8.onnx");
        OnnxModelFile.Save(model, path);

        var run = EncoderRun.FromDevTexts(count: 16, maxLength: 64);
        using var fp32 = new InferenceSession(MiniLm.ModelPath);
        using var int8 = new InferenceSession(path);
        var cosines = run.MeanPool(run.LastHiddenState(fp32), 384).Zip(run.MeanPool(run.LastHiddenState(int8), 384), EncoderRun.Cosine).ToList();
        var ratio = new FileInfo(path).Length / (double)new FileInfo(MiniLm.ModelPath).Length;

        output.WriteLine($"fused + int8: size {ratio:P1} of fp32; mean-pooled cosine per row min {cosines.Min():F5}, mean {cosines.Average():F5}");
        Assert.Equal(6, model.Graph.Node.Count(n => n.OpType == "QAttention"));
        Assert.DoesNotContain(model.Graph.Node, n => n.OpType == "Attention");
        Assert.True(ratio <= 0.30, $"int8 model is {ratio:P1} of fp32");
        Assert.All(cosines, c => Assert.True(c > 0.99, $"cosine {c}"));
    }

    //   x[1,3] ─> MatMul(W[3,2]) ─> Add(b[2]) ─> y
    [Theory]
    [InlineData(Int8MatMulFormat.DynamicQuantizeMatMul, new[] { "DynamicQuantizeMatMul" })]
    [InlineData(Int8MatMulFormat.MatMulInteger, new[] { "DynamicQuantizeLinear", "MatMulInteger", "Cast", "Mul", "Mul", "Add" })]
    public void Small_linear_is_rewritten_and_computes_the_same(Int8MatMulFormat format, string[] ops)
    {
        var graph = new GraphProto { Name = "g" };
        graph.Initializer.Add(TensorData.FromFloat32("w", [0.5f, -1f, 0.25f, 2f, -0.75f, 1f], 3, 2));
        graph.Initializer.Add(TensorData.FromFloat32("fc.bias", [0.1f, -0.2f], 2));
        graph.Node.Add(Node("MatMul", "mm", ["x", "w"], ["xw"]));
        graph.Node.Add(Node("Add", "add", ["xw", "fc.bias"], ["y"]));
        graph.Input.Add(FloatValue("x", 1, 3));
        graph.Output.Add(FloatValue("y", 1, 2));
        var model = Model(graph, 13);

        model.Apply(new DynamicInt8QuantizationPass { Format = format });

        Assert.Equal(ops, model.Graph.Node.Select(n => n.OpType));
        Assert.DoesNotContain(model.Graph.Initializer, t => t.Name == "w");
        var q = model.Graph.Initializer.Single(t => t.Name == "w_quantized");
        Assert.Equal((int)TensorProto.Types.DataType.Int8, q.DataType);
        // column 0 max |w| = 0.75, column 1 max |w| = 2 -> 0.5/0.75*127 = 84.67 -> 85, -1/2*127 = -63.5 -> -64 (to even)
        Assert.Equal(new sbyte[] { 85, -64, 42, 127, -127, 64 }, q.RawData.ToByteArray().Select(b => (sbyte)b));
        using var session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(model));
        using var x = OrtValue.CreateTensorValueFromMemory(new float[] { 1f, 2f, -1f }, [1, 3]);
        using var runOptions = new RunOptions();
        using var result = session.Run(runOptions, ["x"], [x], ["y"]);
        var y = result[0].GetTensorDataAsSpan<float>().ToArray();
        // exact: [0.5 + 0.5 + 0.75 + 0.1, -1 + 4 - 1 - 0.2] = [1.85, 1.8]
        Assert.Equal(1.85, y[0], 1);
        Assert.Equal(1.8, y[1], 1);
    }

    //   x ─> MatMul(Wq) ─> Add(q.bias) ─> q      packed:  x ─> DynamicQuantizeMatMul([Wq|Wk], [bq|bk]) ─> Split ─> q, k
    //   x ─> MatMul(Wk) ─> Add(k.bias) ─> k
    [Fact]
    public void MatMuls_sharing_an_input_are_packed_and_compute_the_same_as_unpacked()
    {
        ModelProto Build()
        {
            var graph = new GraphProto { Name = "g" };
            graph.Initializer.Add(TensorData.FromFloat32("wq", TestGraphs.Random(4 * 3, seed: 1), 4, 3));
            graph.Initializer.Add(TensorData.FromFloat32("wk", TestGraphs.Random(4 * 2, seed: 2), 4, 2));
            graph.Initializer.Add(TensorData.FromFloat32("q.bias", [0.1f, 0.2f, 0.3f], 3));
            graph.Initializer.Add(TensorData.FromFloat32("k.bias", [-0.1f, -0.2f], 2));
            graph.Node.Add(Node("MatMul", "mq", ["x", "wq"], ["xq"]));
            graph.Node.Add(Node("Add", "aq", ["q.bias", "xq"], ["q"]));
            graph.Node.Add(Node("MatMul", "mk", ["x", "wk"], ["xk"]));
            graph.Node.Add(Node("Add", "ak", ["xk", "k.bias"], ["k"]));
            graph.Input.Add(FloatValue("x", 2, 4));
            graph.Output.Add(FloatValue("q", 2, 3));
            graph.Output.Add(FloatValue("k", 2, 2));
            return Model(graph, 13);
        }
        var packed = Build();
        var separate = Build();

        packed.Apply(new DynamicInt8QuantizationPass());
        separate.Apply(new DynamicInt8QuantizationPass { PackSharedInputs = false });

        Assert.Equal(["DynamicQuantizeMatMul", "Split"], packed.Graph.Node.Select(n => n.OpType));
        Assert.Equal(["q", "k"], packed.Graph.Node[1].Output);
        Assert.DoesNotContain(packed.Graph.Initializer, t => t.Name is "wq" or "wk" or "q.bias" or "k.bias");
        var x = TestGraphs.Random(8, seed: 3);
        var (q1, k1) = RunQk(packed, x);
        var (q2, k2) = RunQk(separate, x);
        Assert.Equal(q2, q1);
        Assert.Equal(k2, k1);
    }

    private static (float[] Q, float[] K) RunQk(ModelProto model, float[] x)
    {
        using var session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(model));
        using var input = OrtValue.CreateTensorValueFromMemory(x, [2, 4]);
        using var runOptions = new RunOptions();
        using var result = session.Run(runOptions, ["x"], [input], ["q", "k"]);
        return (result[0].GetTensorDataAsSpan<float>().ToArray(), result[1].GetTensorDataAsSpan<float>().ToArray());
    }

    [Fact]
    public void Column_quantization_error_is_at_most_half_a_step()
    {
        var weight = TestGraphs.Random(64 * 16, seed: 5);
        var (values, scales) = SymmetricInt8.QuantizeColumns(weight, 64, 16);

        for (var i = 0; i < weight.Length; i++)
        {
            var scale = scales[i % 16];
            Assert.True(Math.Abs(values[i] * scale - weight[i]) <= scale / 2 + 1e-7, $"element {i}");
        }
        Assert.Equal(weight.Where((_, i) => i % 16 == 3).Max(Math.Abs) / 127f, scales[3], 6);
    }

    [Fact]
    public void Non_finite_weights_are_refused()
    {
        var e = Assert.Throws<InvalidDataException>(() => SymmetricInt8.QuantizeRows([1f, float.NaN], 1, 2));

        Assert.Contains("non-finite", e.Message);
    }
}
