using Onnx;
using PeftOnnx.Onnx.Graph;
using DataType = Onnx.TensorProto.Types.DataType;

namespace PeftOnnx.Onnx.Passes;

/// <summary>The rewrites of <see cref="DynamicInt8QuantizationPass"/>, matched on the unchanged graph and collected in one rewrite.</summary>
internal sealed class Int8Plan(GraphRewrite rewrite, DynamicInt8QuantizationPass options)
{
    private const string MicrosoftDomain = "com.microsoft";

    private readonly GraphIndex _index = rewrite.Index;
    private readonly UniqueNames _names = rewrite.Names;
    private readonly List<NodeProto> _added = [];
    private readonly Dictionary<string, (string Values, string Scales)> _quantized = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _rewrittenUses = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Values, string Scale, string ZeroPoint)> _activations = new(StringComparer.Ordinal);
    private int _matMuls;
    private int _weights;
    private int _packedGroups;
    private int _attentions;
    private int _tables;
    private int _fusedBiases;
    private long _floatBytes;
    private long _int8Bytes;

    /// <summary>MatMuls quantized so far.</summary>
    public int MatMuls => _matMuls;

    public string Summary =>
        $"{_matMuls} MatMuls on {_weights} weights quantized per column as {options.Format}" +
        (options.Format == Int8MatMulFormat.DynamicQuantizeMatMul ? $" ({_fusedBiases} bias Adds folded, {_packedGroups} groups sharing an input packed into one GEMM)" : "") +
        $", {_attentions} Attention nodes as QAttention, {_tables} embedding tables per row; {_floatBytes:N0} float bytes -> {_int8Bytes:N0} int8+scale bytes";

    //   A ──> MatMul(A, W[K,N] float) ──> Add(bias[N]) ──> Y
    // becomes (DynamicQuantizeMatMul)
    //   A ──> DynamicQuantizeMatMul(A, Wq[K,N] int8, scale[N], zero point omitted = 0, bias[N]) ──> Y
    // or (MatMulInteger)
    //   A ──> DynamicQuantizeLinear ──> Aq, a_scale, a_zp
    //   Aq, Wq, a_zp ──> MatMulInteger ──> int32 ──> Cast(float) ──> Mul(·, a_scale·scale[N]) ──> Add(bias) ──> Y
    public void QuantizeMatMul(NodeProto matMul)
    {
        if (QuantizableWeight(matMul) is not { } weight)
            return;
        var (values, scales) = QuantizedWeight(weight, perRow: false);
        var output = matMul.Output[0];
        _matMuls++;
        rewrite.Remove(matMul);
        Use(weight.Name);

        if (options.Format == Int8MatMulFormat.DynamicQuantizeMatMul)
        {
            var bias = FoldableBias(matMul, weight.Dims[1]);
            if (bias is { } b)
            {
                rewrite.Remove(b.Add);
                output = b.Add.Output[0];
                _fusedBiases++;
            }
            var node = Node("DynamicQuantizeMatMul", _names.Make(NameOf(matMul) + "_quant"), [matMul.Input[0], values, scales, "", bias?.Bias ?? ""], [output]);
            node.Domain = MicrosoftDomain;
            if (bias is null)
                node.Input.RemoveAt(4); // trailing optional inputs are left out rather than named ""
            Add(node);
            return;
        }

        var a = QuantizedActivation(matMul.Input[0]);
        var product = _names.Make(output + "_int32");
        var productFloat = _names.Make(output + "_int32_float");
        var scale = _names.Make(output + "_scale");
        Add(Node("MatMulInteger", _names.Make(NameOf(matMul) + "_quant"), [a.Values, values, a.ZeroPoint], [product]));
        Add(Cast(product, productFloat, _names.Make(product + "_cast")));
        Add(Node("Mul", _names.Make(NameOf(matMul) + "_scale"), [a.Scale, scales], [scale]));
        Add(Node("Mul", _names.Make(NameOf(matMul) + "_rescale"), [productFloat, scale], [output]));
    }

    /// <summary>The constant 2-D float weight of a MatMul, or null for activations x activations (attention scores).</summary>
    public TensorProto? QuantizableWeight(NodeProto matMul)
    {
        if (_index.Initializer(matMul.Input[1]) is not { Dims.Count: 2 } weight || weight.DataType != (int)DataType.Float)
            return null;
        if (_index.Initializer(matMul.Input[0]) is not null)
            throw new InvalidDataException($"int8: {GraphIndex.Describe(matMul)} has constants on both sides; fold it before quantizing.");
        return weight;
    }

    //   A ──> MatMul(Wq) ──> Add(bq) ──> q          A ──> DynamicQuantizeMatMul(A, [Wq|Wk|Wv] int8, [sq|sk|sv], [bq|bk|bv])
    //   A ──> MatMul(Wk) ──> Add(bk) ──> k   becomes      ──> Split(axis -1, [Nq, Nk, Nv]) ──> q, k, v
    //   A ──> MatMul(Wv) ──> Add(bv) ──> v
    // One activation quantization and one wide GEMM instead of three. Per-column scales make this exactly the same
    // arithmetic as quantizing each weight alone.
    /// <summary>Packs MatMuls that read the same input; false (nothing planned) when the group does not fit the pattern.</summary>
    public bool QuantizePacked(IReadOnlyList<NodeProto> group)
    {
        var weights = group.Select(QuantizableWeight).ToList();
        if (group.Count < 2 || weights.Any(w => w is null) || weights.Select(w => w!.Dims[0]).Distinct().Count() != 1
            || weights.Select(w => w!.Name).Distinct().Count() != group.Count || weights.Any(w => _index.Consumers(w!.Name).Count != 1))
            return false;
        var biases = group.Zip(weights, (m, w) => FoldableBias(m, w!.Dims[1])).ToList();
        if (biases.Any(b => b is null) && biases.Any(b => b is not null))
            return false;

        var rows = checked((int)weights[0]!.Dims[0]);
        var widths = weights.Select(w => checked((int)w!.Dims[1])).ToArray();
        var packed = new float[rows * widths.Sum()]; // (K, N1 + N2 + ...)
        var data = weights.Select(w => TensorData.ToFloat32(w!)).ToList();
        for (var r = 0; r < rows; r++)
        {
            var offset = r * widths.Sum();
            for (var i = 0; i < data.Count; offset += widths[i], i++)
                data[i].AsSpan(r * widths[i], widths[i]).CopyTo(packed.AsSpan(offset));
        }
        var input = group[0].Input[0];
        var (values, scales) = SymmetricInt8.QuantizeColumns(packed, rows, widths.Sum());
        var valuesName = _names.Make(input + "_packed_weight_quantized");
        var scalesName = _names.Make(input + "_packed_weight_scale");
        rewrite.AddInitializer(TensorData.FromInt8(valuesName, values, rows, widths.Sum()));
        rewrite.AddInitializer(TensorData.FromFloat32(scalesName, scales, widths.Sum()));
        _floatBytes += packed.Length * 4L;
        _int8Bytes += values.Length + scales.Length * 4L;
        var biasName = "";
        if (biases[0] is not null)
        {
            biasName = _names.Make(input + "_packed_bias");
            rewrite.AddInitializer(TensorData.FromFloat32(biasName, [.. biases.SelectMany(b => TensorData.ToFloat32(_index.Initializer(b!.Value.Bias)!))], widths.Sum()));
            foreach (var bias in biases)
            {
                rewrite.Remove(bias!.Value.Add);
                Use(bias.Value.Bias);
                _fusedBiases++;
            }
        }

        var product = _names.Make(input + "_packed_output");
        var node = Node("DynamicQuantizeMatMul", _names.Make(NameOf(group[0]) + "_packed_quant"), [input, valuesName, scalesName, "", biasName], [product]);
        node.Domain = MicrosoftDomain;
        if (biasName.Length == 0)
            node.Input.RemoveAt(4);
        Add(node);
        var split = Node("Split", _names.Make(NameOf(group[0]) + "_packed_split"), [product], [.. group.Select((m, i) => biases[i]?.Add.Output[0] ?? m.Output[0])]);
        split.Attribute.Add(OnnxNodes.IntAttribute("axis", -1));
        var sizesName = _names.Make(input + "_packed_split_sizes");
        rewrite.AddInitializer(TensorData.FromInt64(sizesName, [.. widths.Select(w => (long)w)], widths.Length));
        split.Input.Add(sizesName); // opset 13+: split sizes are an input
        Add(split);
        foreach (var (matMul, weight) in group.Zip(weights))
        {
            rewrite.Remove(matMul);
            Use(weight!.Name);
            _matMuls++;
            _weights++;
        }
        _packedGroups++;
        return true;
    }

    //   x ──> Attention(x, W[H,3H] float, b[3H], mask_index; num_heads) ──> y          (com.microsoft, from the fusions)
    // becomes
    //   x ──> DynamicQuantizeLinear ──> xq, x_scale, x_zp
    //   QAttention(xq, Wq[H,3H] int8, b, x_scale, scale[3H], mask_index, x_zp) ──> y     (weight zero point omitted = 0)
    public void QuantizeAttention(NodeProto attention)
    {
        if (_index.Initializer(attention.Input[1]) is not { Dims.Count: 2 } weight || weight.DataType != (int)DataType.Float)
            return;
        var unsupported = attention.Attribute.Select(a => a.Name).Except(["num_heads", "unidirectional"]).ToList();
        if (unsupported.Count > 0 || attention.Input.Count > 4 || attention.Output.Count > 1)
        {
            throw new InvalidDataException(
                $"int8: {GraphIndex.Describe(attention)} uses {(unsupported.Count > 0 ? "attributes " + string.Join(", ", unsupported) : "past state or extra inputs/outputs")}, which QAttention does not take; " +
                "exclude it with NodesToExclude to keep it in float32.");
        }
        var (values, scales) = QuantizedWeight(weight, perRow: false);
        var x = QuantizedActivation(attention.Input[0]);
        var maskIndex = attention.Input.Count > 3 ? attention.Input[3] : "";
        var node = Node("QAttention", _names.Make(NameOf(attention) + "_quant"),
            [x.Values, values, attention.Input[2], x.Scale, scales, maskIndex, x.ZeroPoint], [attention.Output[0]]);
        node.Domain = MicrosoftDomain;
        node.Attribute.AddRange(attention.Attribute);
        Add(node);
        rewrite.Remove(attention);
        Use(weight.Name);
        _attentions++;
    }

    //   ids ──> Gather(E[V,H] float) ──> e
    // becomes
    //   ids ──> Gather(Eq[V,H] int8) ──> Cast(float) ──> Mul ──> e       (B, S, H) · (B, S, 1)
    //   ids ──> Gather(scale[V,1]) ──────────────────────┘
    public void QuantizeGather(NodeProto gather)
    {
        if (_index.Initializer(gather.Input[0]) is not { Dims.Count: 2 } table || table.DataType != (int)DataType.Float)
            return;
        if (table.Dims[0] * table.Dims[1] < options.MinTableElements)
            return;
        if (gather.Attribute.FirstOrDefault(a => a.Name == "axis") is { I: not 0 } axis)
            throw new InvalidDataException($"int8: {GraphIndex.Describe(gather)} gathers along axis {axis.I} of table '{table.Name}'; only row lookups (axis 0) are quantized.");
        var (values, scales) = QuantizedWeight(table, perRow: true);
        var output = gather.Output[0];
        var rows = _names.Make(output + "_int8");
        var rowsFloat = _names.Make(output + "_int8_float");
        var rowScales = _names.Make(output + "_scale");
        Add(Node("Gather", _names.Make(NameOf(gather) + "_quant"), [values, gather.Input[1]], [rows]));
        Add(Cast(rows, rowsFloat, _names.Make(rows + "_cast")));
        Add(Node("Gather", _names.Make(NameOf(gather) + "_scale"), [scales, gather.Input[1]], [rowScales]));
        Add(Node("Mul", _names.Make(NameOf(gather) + "_dequant"), [rowsFloat, rowScales], [output]));
        rewrite.Remove(gather);
        Use(table.Name);
        _tables++;
    }

    /// <summary>The float weights and biases no node reads any more go, and the contrib operator set comes in.</summary>
    public void Finish()
    {
        foreach (var (name, uses) in _rewrittenUses)
        {
            if (_index.Consumers(name).Count == uses && !_index.GraphOutputs.Contains(name) && !_added.Any(n => n.Input.Contains(name)))
                rewrite.RemoveInitializer(name);
        }
        if (_added.Any(n => n.Domain == MicrosoftDomain))
            rewrite.RequireOpset(MicrosoftDomain, 1);
    }

    /// <summary>The Add of a 1-D float initializer [N] that alone consumes the MatMul's output.</summary>
    private (NodeProto Add, string Bias)? FoldableBias(NodeProto matMul, long columns)
    {
        var output = matMul.Output[0];
        if (_index.GraphOutputs.Contains(output) || _index.Consumers(output) is not [{ OpType: "Add" } add])
            return null;
        var other = add.Input[0] == output ? add.Input[1] : add.Input[0];
        return _index.Initializer(other) is { Dims.Count: 1 } bias && bias.Dims[0] == columns && bias.DataType == (int)DataType.Float
            ? (add, other)
            : null;
    }

    private (string Values, string Scales) QuantizedWeight(TensorProto weight, bool perRow)
    {
        if (_quantized.TryGetValue(weight.Name, out var done))
            return done;
        var rows = checked((int)weight.Dims[0]);
        var cols = checked((int)weight.Dims[1]);
        var data = TensorData.ToFloat32(weight);
        var (values, scales) = perRow ? SymmetricInt8.QuantizeRows(data, rows, cols) : SymmetricInt8.QuantizeColumns(data, rows, cols);
        var valuesName = _names.Make(weight.Name + "_quantized");
        var scalesName = _names.Make(weight.Name + "_scale");
        rewrite.AddInitializer(TensorData.FromInt8(valuesName, values, rows, cols));
        rewrite.AddInitializer(perRow ? TensorData.FromFloat32(scalesName, scales, rows, 1) : TensorData.FromFloat32(scalesName, scales, cols));
        _floatBytes += data.Length * 4L;
        _int8Bytes += values.Length + scales.Length * 4L;
        if (!perRow)
            _weights++;
        return _quantized[weight.Name] = (valuesName, scalesName);
    }

    /// <summary>One DynamicQuantizeLinear per activation, shared by the MatMuls reading it (query, key and value).</summary>
    private (string Values, string Scale, string ZeroPoint) QuantizedActivation(string input)
    {
        if (_activations.TryGetValue(input, out var done))
            return done;
        var quantized = (_names.Make(input + "_quantized"), _names.Make(input + "_scale"), _names.Make(input + "_zero_point"));
        Add(Node("DynamicQuantizeLinear", _names.Make(input + "_quantize"), [input], [quantized.Item1, quantized.Item2, quantized.Item3]));
        return _activations[input] = quantized;
    }

    private static string NameOf(NodeProto node) => node.Name.Length > 0 ? node.Name : node.Output[0];

    private void Use(string initializer) => _rewrittenUses[initializer] = _rewrittenUses.GetValueOrDefault(initializer) + 1;

    private void Add(NodeProto node)
    {
        _added.Add(node);
        rewrite.Add(node);
    }

    private static NodeProto Node(string op, string name, string[] inputs, string[] outputs) => OnnxNodes.Node(op, name, "", inputs, outputs);

    private static NodeProto Cast(string input, string output, string name) => OnnxNodes.Cast(name, input, output, (int)DataType.Float);
}
