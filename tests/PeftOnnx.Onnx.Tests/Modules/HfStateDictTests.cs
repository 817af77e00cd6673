using Microsoft.ML.OnnxRuntime;
using Onnx;
using PeftOnnx.Onnx;
using PeftOnnx.Onnx.Modules;
using Xunit.Abstractions;
using static PeftOnnx.Onnx.Tests.TestGraphs;

namespace PeftOnnx.Onnx.Tests.Modules;

public sealed class HfStateDictTests(ITestOutputHelper output)
{
    private static readonly Lazy<IReadOnlyDictionary<string, (float[] Data, long[] Shape)>> State =
        new(() => HfStateDict.FromModel(MiniLm.Model));

    [Fact]
    public void Has_every_BertModel_key_with_torch_shapes_and_nothing_else()
    {
        var expected = new Dictionary<string, long[]>
        {
            ["embeddings.word_embeddings.weight"] = [30522, 384],
            ["embeddings.position_embeddings.weight"] = [512, 384],
            ["embeddings.token_type_embeddings.weight"] = [2, 384],
            ["embeddings.LayerNorm.weight"] = [384],
            ["embeddings.LayerNorm.bias"] = [384],
            ["pooler.dense.weight"] = [384, 384],
            ["pooler.dense.bias"] = [384],
        };
        for (var layer = 0; layer < 6; layer++)
        {
            var p = $"encoder.layer.{layer}.";
            foreach (var linear in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" })
            {
                expected[p + linear + ".weight"] = [384, 384];
                expected[p + linear + ".bias"] = [384];
            }
            expected[p + "intermediate.dense.weight"] = [1536, 384];
            expected[p + "intermediate.dense.bias"] = [1536];
            expected[p + "output.dense.weight"] = [384, 1536];
            expected[p + "output.dense.bias"] = [384];
            foreach (var norm in new[] { "attention.output.LayerNorm", "output.LayerNorm" })
            {
                expected[p + norm + ".weight"] = [384];
                expected[p + norm + ".bias"] = [384];
            }
        }

        var state = State.Value;

        Assert.Equal(103, expected.Count);
        Assert.Equal(expected.Keys.Order(), state.Keys.Order());
        foreach (var (key, shape) in expected)
        {
            Assert.Equal(shape, state[key].Shape);
            Assert.Equal(shape.Aggregate(1L, (a, d) => a * d), state[key].Data.Length);
        }
    }

    /// <summary>
    /// Runs layer 0's query MatMul + bias Add, copied from the model, in ONNX Runtime, and compares it with
    /// torch's Linear (y = x·Wᵀ + b) computed from the extracted [out, in] weight.
    /// </summary>
    [Fact]
    public void Query_weight_is_transposed_to_torch_layout()
    {
        var module = ModuleMap.Build(MiniLm.Model)["encoder.layer.0.attention.self.query"];
        var graph = new GraphProto { Name = "query" };
        graph.Initializer.Add(MiniLm.Model.Graph.Initializer.Single(t => t.Name == module.WeightInitializer));
        graph.Initializer.Add(MiniLm.Model.Graph.Initializer.Single(t => t.Name == module.BiasInitializer));
        var matMul = MiniLm.Model.Graph.Node.Single(n => n.Name == module.ConsumerNodes[0]);
        graph.Node.Add(Node("MatMul", matMul.Name, ["x", module.WeightInitializer], ["xw"]));
        graph.Node.Add(Node("Add", "bias", [module.BiasInitializer!, "xw"], ["y"]));
        graph.Input.Add(FloatValue("x", 2, 384));
        graph.Output.Add(FloatValue("y", 2, 384));
        var x = TestGraphs.Random(2 * 384, seed: 3);

        float[] onnx;
        using (var session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(Model(graph, 13))))
        using (var input = OrtValue.CreateTensorValueFromMemory(x, [2, 384]))
        using (var results = session.Run(new RunOptions(), ["x"], [input], ["y"]))
            onnx = results[0].GetTensorDataAsSpan<float>().ToArray();

        var (weight, shape) = State.Value["encoder.layer.0.attention.self.query.weight"];
        var bias = State.Value["encoder.layer.0.attention.self.query.bias"].Data;
        Assert.Equal(new long[] { 384, 384 }, shape);
        var maxDiff = 0.0;
        for (var row = 0; row < 2; row++)
        {
            for (var o = 0; o < 384; o++)
            {
                double y = bias[o];
                for (var i = 0; i < 384; i++)
                    y += weight[o * 384 + i] * x[row * 384 + i]; // torch: W[out, in]
                maxDiff = Math.Max(maxDiff, Math.Abs(y - onnx[row * 384 + o]));
            }
        }
        output.WriteLine($"query Linear, torch layout vs ONNX MatMul: max abs diff {maxDiff:G3}");
        Assert.True(maxDiff < 1e-4, $"max abs diff {maxDiff}");
    }

    /// <summary>The pooler is a Gemm with transB=1 (already [out, in]): tanh(W·h[:,0] + b) must equal the model's output "924".</summary>
    [Fact]
    public void Pooler_recomputed_from_the_state_dict_matches_the_model()
    {
        long[] ids = [101, 7592, 2088, 1010, 2023, 2003, 1037, 3231, 102];
        using var session = new InferenceSession(MiniLm.ModelPath);
        using var inputIds = OrtValue.CreateTensorValueFromMemory(ids, [1, ids.Length]);
        using var mask = OrtValue.CreateTensorValueFromMemory(ids.Select(_ => 1L).ToArray(), [1, ids.Length]);
        using var types = OrtValue.CreateTensorValueFromMemory(new long[ids.Length], [1, ids.Length]);
        using var results = session.Run(new RunOptions(), ["input_ids", "attention_mask", "token_type_ids"], [inputIds, mask, types], ["last_hidden_state", "924"]);
        var hidden = results[0].GetTensorDataAsSpan<float>()[..384].ToArray(); // h[0, 0, :]
        var pooled = results[1].GetTensorDataAsSpan<float>().ToArray();

        var (weight, _) = State.Value["pooler.dense.weight"];
        var bias = State.Value["pooler.dense.bias"].Data;
        var maxDiff = 0.0;
        for (var o = 0; o < 384; o++)
        {
            double y = bias[o];
            for (var i = 0; i < 384; i++)
                y += weight[o * 384 + i] * hidden[i];
            maxDiff = Math.Max(maxDiff, Math.Abs(Math.Tanh(y) - pooled[o]));
        }
        output.WriteLine($"pooler tanh(W·h0 + b) vs ONNX output 924: max abs diff {maxDiff:G3}");
        Assert.True(maxDiff < 1e-4, $"max abs diff {maxDiff}");
    }

    [Fact]
    public void Named_parameters_are_copied_unchanged()
    {
        var word = MiniLm.Model.Graph.Initializer.Single(t => t.Name == "embeddings.word_embeddings.weight");

        Assert.Equal(TensorData.ToFloat32(word), State.Value["embeddings.word_embeddings.weight"].Data);
    }

    [Fact]
    public void Transpose_swaps_rows_and_columns()
    {
        // [[1, 2, 3], [4, 5, 6]] -> [[1, 4], [2, 5], [3, 6]]
        Assert.Equal(new float[] { 1, 4, 2, 5, 3, 6 }, HfStateDict.Transpose([1, 2, 3, 4, 5, 6], 2, 3));
    }
}
