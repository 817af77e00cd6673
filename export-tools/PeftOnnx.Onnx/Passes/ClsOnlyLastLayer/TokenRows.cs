using Onnx;
using PeftOnnx.Onnx.Graph;
using PeftOnnx.Onnx.Passes.Fusions;
using static PeftOnnx.Onnx.Passes.Fusions.FusionPatterns;

namespace PeftOnnx.Onnx.Passes;

/// <summary>
/// Which values of a graph carry the sequence axis, and which nodes work on each token's row alone: what
/// <see cref="ClsOnlyLastLayerPass"/> must know before it lets a computation run on row 0 only.
/// </summary>
internal sealed class TokenRows
{
    private static readonly HashSet<string> Elementwise = new(StringComparer.Ordinal)
    {
        "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sqrt", "Erf", "Tanh", "Relu", "Sigmoid", "Exp", "Neg", "Abs",
        "Reciprocal", "Identity", "Cast", "Gelu", "FastGelu", "BiasGelu", "LayerNormalization", "SkipLayerNormalization",
    };

    /// <summary>Nodes that may compute a Reshape's target shape from the shape of the tensor it reshapes.</summary>
    private static readonly HashSet<string> ShapeArithmetic = new(StringComparer.Ordinal)
    {
        "Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast", "Slice", "Add", "Sub", "Mul", "Div", "Constant",
    };

    private readonly GraphIndex _index;
    private readonly HashSet<string> _sequential = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _inputRanks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorShapeProto> _declared = new(StringComparer.Ordinal);
    private readonly string? _sequence;

    public TokenRows(GraphIndex index)
    {
        _index = index;
        var graph = index.Graph;
        // The sequence axis is named by input_ids' second dimension; every input that has it carries tokens.
        var ids = graph.Input.FirstOrDefault(i => i.Name == "input_ids") ?? graph.Input.FirstOrDefault();
        var sequence = _sequence = ids?.Type?.TensorType?.Shape?.Dim is { Count: 2 } d && d[1].DimParam.Length > 0 ? d[1].DimParam : null;
        foreach (var input in graph.Input)
        {
            var dims = input.Type?.TensorType?.Shape?.Dim;
            if (dims is not null)
                _inputRanks[input.Name] = dims.Count;
            if (input == ids || (sequence is not null && dims is not null && dims.Any(x => x.DimParam == sequence)))
                _sequential.Add(input.Name);
        }
        foreach (var info in graph.ValueInfo.Where(v => v.Type?.TensorType?.Shape is not null))
            _declared[info.Name] = info.Type.TensorType.Shape;
        foreach (var node in graph.Node)
        {
            if (node.Input.Any(_sequential.Contains))
                _sequential.UnionWith(node.Output.Where(o => o.Length > 0));
        }
    }

    /// <summary>True when the value depends on the token inputs (it may have a sequence axis).</summary>
    public bool IsSequential(string value) => _sequential.Contains(value);

    /// <summary>
    /// True when the value's declared shape (a value_info) is (batch, sequence, X): a per-token value computed apart from
    /// the rows (LoReFT's position mask). A per-token node reads its row j beside row j of the others, so a node that
    /// computes row 0 only reads its row 0 (the caller slices it).
    /// </summary>
    public bool IsTokenAligned(string value) =>
        _sequence is not null && _declared.TryGetValue(value, out var shape) && shape.Dim.Count == 3 && shape.Dim[1].DimParam == _sequence;

    /// <summary>True when the value's declared shape is (batch, 1, X): one row per sequence, the same for every token (an adapter's per-row bias in the mixed form).</summary>
    private bool IsPerSequence(string value) =>
        _declared.TryGetValue(value, out var shape) && shape.Dim.Count == 3 && shape.Dim[1].ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && shape.Dim[1].DimValue == 1;

    /// <summary>
    /// True when <paramref name="node"/> computes each token's row from that row alone: every input is a row value
    /// (<paramref name="isRow"/>), a MatMul's right operand that does not depend on the tokens (a weight, an adapter's
    /// gathered factors), a scalar/[H] constant or graph input broadcast along the hidden axis, a declared per-sequence
    /// (batch, 1, X) value, or a declared token-aligned (batch, sequence, X) value (<see cref="IsTokenAligned"/>).
    /// </summary>
    public bool IsRowwise(NodeProto node, Func<string, bool> isRow)
    {
        if (!IsRowwiseOp(node))
            return false;
        for (var i = 0; i < node.Input.Count; i++)
        {
            var input = node.Input[i];
            if (input.Length == 0 || isRow(input))
                continue;
            var allowed = (node.OpType, i) switch
            {
                ("MatMul", 1) => true, // not sequential, checked above
                ("ReduceMean", 1) => Constant(_index, input) is not null,
                _ => (!IsSequential(input) && Rank(input) is <= 1) || IsPerSequence(input) || IsTokenAligned(input),
            };
            if (!allowed)
                return false;
        }
        return true;
    }

    /// <summary>The operator part of <see cref="IsRowwise"/>: an op that works along the hidden axis only.</summary>
    public bool IsRowwiseOp(NodeProto node) => node.OpType switch
    {
        "MatMul" => node.Input.Count == 2 && !IsSequential(node.Input[1]),
        "ReduceMean" => Ints(node, "keepdims") is null or [1] && ReduceAxes(node) is [-1] or [2],
        "LayerNormalization" or "SkipLayerNormalization" => Ints(node, "axis") is null or [-1] or [2],
        _ => Elementwise.Contains(node.OpType) && node.Domain is "" or "ai.onnx" or TransformerFusion.MicrosoftDomain,
    };

    /// <summary>
    /// The nodes from <paramref name="start"/> to the row-0 readers (Gather(h, 0, axis=1), the pooler), or null with the
    /// reason: a node that is not row-wise, a row that reaches a graph output, or no row-0 reader at all.
    /// <paramref name="layerInput"/> may be read too (the residual); the caller gives it row 0.
    /// </summary>
    public List<NodeProto>? Tail(string start, string layerInput, out string reason)
    {
        var tail = new List<NodeProto>();
        var seen = new HashSet<NodeProto>(ReferenceEqualityComparer.Instance);
        var rows = new HashSet<string>(StringComparer.Ordinal) { start };
        var values = new Queue<string>([start]);
        var rowReaders = 0;
        while (values.TryDequeue(out var value))
        {
            if (_index.GraphOutputs.Contains(value))
            {
                reason = $"'{value}' after the last attention block is a graph output (every row is needed)";
                return null;
            }
            foreach (var consumer in _index.Consumers(value))
            {
                if (IsRowZeroReader(consumer, value))
                {
                    rowReaders++;
                    continue;
                }
                if (!seen.Add(consumer))
                    continue;
                if (!IsRowwiseOp(consumer))
                {
                    reason = $"{GraphIndex.Describe(consumer)} ({consumer.OpType}) after the last attention block is not a per-token operation or reads all rows";
                    return null;
                }
                tail.Add(consumer);
                foreach (var output in consumer.Output.Where(o => o.Length > 0))
                {
                    if (rows.Add(output))
                        values.Enqueue(output);
                }
            }
        }
        foreach (var node in tail)
        {
            if (!IsRowwise(node, v => rows.Contains(v) || v == layerInput))
            {
                reason = $"{GraphIndex.Describe(node)} ({node.OpType}) after the last attention block reads a value that is neither a row of it nor a weight";
                return null;
            }
        }
        if (rowReaders == 0)
        {
            reason = "the last layer's output is not read at row 0 only (Gather(h, 0, axis=1), the pooler); mean pooling reads every row";
            return null;
        }
        reason = "";
        return tail;
    }

    /// <summary>
    /// True when a Reshape's target <paramref name="shape"/> keeps the sequence axis of <paramref name="tensor"/>: it is
    /// computed from Shape(<paramref name="tensor"/>) and constants, or it is a constant whose sequence entry is 0 or -1.
    /// Then the Reshape follows when the tensor has one row instead of S.
    /// </summary>
    public bool ShapeFollows(string shape, string tensor)
    {
        if (Constant(_index, shape) is { } constant)
            return TensorData.ToInt64(constant) is [_, 0 or -1, ..];
        var pending = new Stack<string>([shape]);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (pending.TryPop(out var value))
        {
            if (!seen.Add(value) || Constant(_index, value) is not null)
                continue;
            var producer = _index.Producer(value);
            if (producer is null || !ShapeArithmetic.Contains(producer.OpType))
                return false;
            if (producer.OpType == "Shape")
            {
                if (producer.Input[0] != tensor)
                    return false;
                continue;
            }
            foreach (var input in producer.Input.Where(i => i.Length > 0))
                pending.Push(input);
        }
        return true;
    }

    /// <summary>Every value <paramref name="value"/> is computed from (itself included).</summary>
    public HashSet<string> Ancestors(string value)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([value]);
        while (pending.TryPop(out var current))
        {
            if (!found.Add(current) || _index.Producer(current) is not { } producer)
                continue;
            foreach (var input in producer.Input.Where(i => i.Length > 0))
                pending.Push(input);
        }
        return found;
    }

    /// <summary>Gather(h, 0, axis=1) with a scalar index: the pooler's h[:, 0].</summary>
    private bool IsRowZeroReader(NodeProto node, string value) =>
        node.OpType == "Gather" && node.Input[0] == value
        && Ints(node, "axis") is [1]
        && Constant(_index, node.Input[1]) is { Dims.Count: 0 } indices && TensorData.ToInt64(indices) is [0];

    private long[]? ReduceAxes(NodeProto node) =>
        Ints(node, "axes") ?? (node.Input.Count > 1 && Constant(_index, node.Input[1]) is { } axes ? TensorData.ToInt64(axes) : null);

    /// <summary>The rank of a constant, or of a graph input or value with a declared shape; null when unknown.</summary>
    private int? Rank(string value) =>
        Constant(_index, value) is { } constant ? constant.Dims.Count
        : _inputRanks.TryGetValue(value, out var rank) ? rank
        : _declared.TryGetValue(value, out var shape) ? shape.Dim.Count
        : null;
}
