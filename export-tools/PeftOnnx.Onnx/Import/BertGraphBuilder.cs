using Onnx;
using PeftOnnx.Core.Models;
using static PeftOnnx.Onnx.Graph.OnnxNodes;
using DataType = Onnx.TensorProto.Types.DataType;

namespace PeftOnnx.Onnx.Import;

/// <summary>
/// Builds a BertModel's ONNX graph from its state dict, node for node in the form torch.onnx (opset 13) gives the
/// NuGet models, so the module map, merge passes, side-graphs, fusions, int8/fp16 and the [CLS]-only pass see what
/// they see there:
/// <code>
///   mask: Unsqueeze(1) ─ Unsqueeze(2) ─ Cast(float) ─ Sub(1, ·) ─ Mul(-10000)
///   embeddings: Gather(word, ids) + Gather(type, types) + Gather(position, Slice(position_ids, 0, S)) ─ LayerNorm
///   layer: x ─ MatMul(Wq) ─ Add(bq) ─ Reshape(B,S,N,D) ─ Transpose(0,2,1,3) ─ MatMul(·, Kᵀ) ─ Div(√D) ─ Add(mask) ─ Softmax
///          ─ MatMul(V) ─ Transpose(0,2,1,3) ─ Reshape(B,S,H) ─ MatMul(Wo) ─ Add(bo) ─ Add(x) ─ LayerNorm
///          ─ MatMul(Wi) ─ Add(bi) ─ act ─ MatMul(Wd) ─ Add(bd) ─ Add(·) ─ LayerNorm
///   pooler: Gather(h, 0, axis 1) ─ Gemm(transB) ─ Tanh
/// </code>
/// LayerNorm is decomposed (ReduceMean, Sub, Pow, ReduceMean, Add(eps), Sqrt, Div, Mul, Add) as below opset 17.
/// Linear weights are stored [in, out] under their checkpoint names (X.weight), biases as X.bias.
/// </summary>
public sealed class BertGraphBuilder
{
    /// <summary>transformers' extended attention mask value for padding in this export form.</summary>
    private const float MaskValue = -10000f;

    private readonly ModelArchitecture _config;
    private readonly IReadOnlyDictionary<string, (float[] Data, long[] Shape)> _state;
    private readonly GraphProto _graph = new() { Name = "bert" };
    private int _next;

    private BertGraphBuilder(ModelArchitecture config, IReadOnlyDictionary<string, (float[] Data, long[] Shape)> state)
    {
        _config = config;
        _state = state;
    }

    /// <summary>Output name of the pooler when the model has one.</summary>
    public const string PoolerOutput = "pooler_output";

    /// <summary>The model: inputs input_ids, attention_mask, token_type_ids (int64, [batch, sequence]); outputs last_hidden_state and, with a pooler, pooler_output.</summary>
    /// <param name="config">The sizes, activation, eps and whether there is a pooler.</param>
    /// <param name="state">BertModel keys (no "bert." prefix), torch layouts, shapes already checked by <see cref="CheckpointWeights"/>.</param>
    public static ModelProto Build(ModelArchitecture config, IReadOnlyDictionary<string, (float[] Data, long[] Shape)> state)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(state);
        var builder = new BertGraphBuilder(config, state);
        builder.BuildGraph();
        var model = new ModelProto
        {
            IrVersion = 7,
            ProducerName = "peftonnx-export models import",
            Graph = builder._graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model;
    }

    private void BuildGraph()
    {
        foreach (var input in new[] { "input_ids", "attention_mask", "token_type_ids" })
            _graph.Input.Add(ValueInfo(input, DataType.Int64, "batch", "sequence"));

        var mask = AdditiveMask();
        var x = Embeddings();
        for (var layer = 0; layer < _config.Layers; layer++)
            x = Layer($"encoder.layer.{layer}.", x, mask, layer == _config.Layers - 1 ? "last_hidden_state" : null);
        _graph.Output.Add(ValueInfo("last_hidden_state", DataType.Float, "batch", "sequence", _config.Hidden));
        if (_config.Pooler)
        {
            var first = Op("Gather", [x, Constant(0L, scalar: true)], ("axis", 1L)); // (B, H)
            AddInitializer("pooler.dense.weight");
            AddInitializer("pooler.dense.bias");
            var dense = Op("Gemm", [first, "pooler.dense.weight", "pooler.dense.bias"], ("alpha", 1f), ("beta", 1f), ("transB", 1L));
            Op("Tanh", [dense], output: PoolerOutput);
            _graph.Output.Add(ValueInfo(PoolerOutput, DataType.Float, "batch", _config.Hidden));
        }
    }

    /// <summary>(1 - mask[:, None, None, :]) · -10000, (B, 1, 1, S).</summary>
    private string AdditiveMask()
    {
        var m = Op("Unsqueeze", ["attention_mask", Constant([1L])]);
        m = Op("Unsqueeze", [m, Constant([2L])]);
        m = Op("Cast", [m], ("to", (long)DataType.Float));
        m = Op("Sub", [Constant(1f), m]);
        return Op("Mul", [m, Constant(MaskValue)]);
    }

    private string Embeddings()
    {
        var positionIds = "embeddings.position_ids";
        var positions = new long[_config.MaxPosition];
        for (var i = 0; i < positions.Length; i++)
            positions[i] = i;
        _graph.Initializer.Add(TensorData.FromInt64(positionIds, positions, 1, _config.MaxPosition));
        foreach (var table in new[] { "word_embeddings", "position_embeddings", "token_type_embeddings" })
            AddInitializer($"embeddings.{table}.weight");

        var length = Op("Gather", [Op("Shape", ["input_ids"]), Constant(1L, scalar: true)], ("axis", 0L));
        var end = Op("Unsqueeze", [length, Constant([0L])]);
        var sliced = Op("Slice", [positionIds, Initializer([0L]), end, Initializer([1L]), Constant([1L])]); // (1, S)
        var words = Op("Gather", ["embeddings.word_embeddings.weight", "input_ids"]);
        var types = Op("Gather", ["embeddings.token_type_embeddings.weight", "token_type_ids"]);
        var sum = Op("Add", [words, types]);
        var position = Op("Gather", ["embeddings.position_embeddings.weight", sliced]);
        return LayerNorm("embeddings.LayerNorm", Op("Add", [sum, position]));
    }

    private string Layer(string prefix, string x, string mask, string? output)
    {
        var heads = _config.Heads;
        var headSize = _config.Hidden / heads;
        var query = Linear(prefix + "attention.self.query", x);
        var key = Linear(prefix + "attention.self.key", x);
        var keyHeads = SplitHeads(key, heads, headSize); // (B, S, N, D)
        var value = Linear(prefix + "attention.self.value", x);
        var valueHeads = Op("Transpose", [SplitHeads(value, heads, headSize)], ("perm", new long[] { 0, 2, 1, 3 })); // (B, N, S, D)
        var queryHeads = Op("Transpose", [SplitHeads(query, heads, headSize)], ("perm", new long[] { 0, 2, 1, 3 })); // (B, N, S, D)
        var keyT = Op("Transpose", [keyHeads], ("perm", new long[] { 0, 2, 3, 1 })); // (B, N, D, S)
        var scores = Op("MatMul", [queryHeads, keyT]); // (B, N, S, S)
        scores = Op("Div", [scores, Constant(MathF.Sqrt(headSize))]);
        scores = Op("Add", [scores, mask]);
        var probs = Op("Softmax", [scores], ("axis", -1L));
        var context = Op("MatMul", [probs, valueHeads]); // (B, N, S, D)
        context = Op("Transpose", [context], ("perm", new long[] { 0, 2, 1, 3 })); // (B, S, N, D)
        var merged = Op("Reshape", [context, Op("Concat", [BatchDim(context), SequenceDim(context), Initializer([(long)_config.Hidden])], ("axis", 0L))]); // (B, S, H)
        var attention = Linear(prefix + "attention.output.dense", merged);
        var h = LayerNorm(prefix + "attention.output.LayerNorm", Op("Add", [attention, x]));

        var intermediate = Activation(Linear(prefix + "intermediate.dense", h));
        var ffn = Linear(prefix + "output.dense", intermediate);
        return LayerNorm(prefix + "output.LayerNorm", Op("Add", [ffn, h]), output);
    }

    /// <summary>(B, S, H) -> (B, S, N, D), the target shape read from the tensor itself.</summary>
    private string SplitHeads(string value, int heads, int headSize) =>
        Op("Reshape", [value, Op("Concat", [BatchDim(value), SequenceDim(value), Initializer([(long)heads]), Initializer([(long)headSize])], ("axis", 0L))]);

    private string BatchDim(string value) => Dim(value, 0);

    private string SequenceDim(string value) => Dim(value, 1);

    private string Dim(string value, long axis) =>
        Op("Unsqueeze", [Op("Gather", [Op("Shape", [value]), Constant(axis, scalar: true)], ("axis", 0L)), Constant([0L])]);

    /// <summary>Add(b, MatMul(x, Wᵀ)) with W stored [in, out] under its checkpoint name.</summary>
    private string Linear(string module, string x)
    {
        var (data, shape) = _state[module + ".weight"];
        var (outFeatures, inFeatures) = (checked((int)shape[0]), checked((int)shape[1]));
        _graph.Initializer.Add(TensorData.FromFloat32(module + ".weight", Modules.HfStateDict.Transpose(data, outFeatures, inFeatures), inFeatures, outFeatures));
        AddInitializer(module + ".bias");
        var product = Op("MatMul", [x, module + ".weight"]);
        return Op("Add", [module + ".bias", product]);
    }

    private string Activation(string x)
    {
        switch (_config.HiddenAct)
        {
            case "relu":
                return Op("Relu", [x]);
            case "gelu_new":
            {
                // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
                var cube = Op("Pow", [x, Constant(3f)]);
                var inner = Op("Add", [x, Op("Mul", [cube, Constant(0.044715f)])]);
                var tanh = Op("Tanh", [Op("Mul", [inner, Constant(MathF.Sqrt(2f / MathF.PI))])]);
                return Op("Mul", [Op("Mul", [x, Op("Add", [tanh, Constant(1f)])]), Constant(0.5f)]);
            }
            default:
            {
                // x·0.5·(1 + erf(x/√2)), exactly as torch exports nn.GELU.
                var erf = Op("Erf", [Op("Div", [x, Constant(MathF.Sqrt(2f))])]);
                return Op("Mul", [Op("Mul", [x, Op("Add", [erf, Constant(1f)])]), Constant(0.5f)]);
            }
        }
    }

    private string LayerNorm(string module, string x, string? output = null)
    {
        AddInitializer(module + ".weight");
        AddInitializer(module + ".bias");
        var mean = Op("ReduceMean", [x], ("axes", new long[] { -1 }));
        var centered = Op("Sub", [x, mean]);
        var variance = Op("ReduceMean", [Op("Pow", [centered, Constant(2f)])], ("axes", new long[] { -1 }));
        var std = Op("Sqrt", [Op("Add", [variance, Constant((float)_config.LayerNormEps)])]);
        var normalized = Op("Div", [centered, std]);
        return Op("Add", [Op("Mul", [normalized, module + ".weight"]), module + ".bias"], output: output);
    }

    private void AddInitializer(string key)
    {
        var (data, shape) = _state[key];
        _graph.Initializer.Add(TensorData.FromFloat32(key, data, shape));
    }

    private string Initializer(long[] values)
    {
        var name = $"const_{_next++}";
        _graph.Initializer.Add(TensorData.FromInt64(name, values, values.Length));
        return name;
    }

    private string Constant(float value) => ConstantNode(TensorData.FromFloat32("value", [value]));

    private string Constant(long[] values) => ConstantNode(TensorData.FromInt64("value", values, values.Length));

    private string Constant(long value, bool scalar) => ConstantNode(scalar ? TensorData.FromInt64("value", [value]) : TensorData.FromInt64("value", [value], 1));

    private string ConstantNode(TensorProto value)
    {
        value.Name = "";
        return Op("Constant", [], ("value", value));
    }

    /// <summary>Appends a node named OpType_N with one output (named N unless given) and returns the output.</summary>
    private string Op(string opType, string[] inputs, params (string Name, object Value)[] attributes) => Op(opType, inputs, null, attributes);

    private string Op(string opType, string[] inputs, string? output, params (string Name, object Value)[] attributes)
    {
        var id = _next++;
        output ??= id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var converted = attributes.Select(a => a.Value switch
        {
            long i => IntAttribute(a.Name, i),
            float f => FloatAttribute(a.Name, f),
            long[] ints => IntsAttribute(a.Name, ints),
            TensorProto t => TensorAttribute(a.Name, t),
            _ => throw new ArgumentException($"attribute {a.Name} has unsupported type {a.Value.GetType().Name}.", nameof(attributes)),
        }).ToArray();
        _graph.Node.Add(Node(opType, $"{opType}_{id}", "", inputs, [output], converted));
        return output;
    }
}
